"""Business filters shared by every recommendation query: category, price range, stock, exclude."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import sql


@dataclass(frozen=True)
class ProductFilter:
    categories: tuple[str, ...] = ()
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool | None = None
    exclude: tuple[str, ...] = ()

    def with_exclude(self, *items: str) -> "ProductFilter":
        return ProductFilter(self.categories, self.min_price, self.max_price, self.in_stock,
                             tuple(dict.fromkeys((*self.exclude, *items))))

    def where(self, alias: str = "p") -> tuple[sql.Composable, dict[str, Any]]:
        """SQL conditions on the products table under ``alias`` (always excluding deleted products)."""
        p = sql.Identifier(alias)
        clauses = [sql.SQL("NOT {}.deleted").format(p)]
        params: dict[str, Any] = {}
        if self.categories:
            clauses.append(sql.SQL("{}.category = ANY(%(f_categories)s)").format(p))
            params["f_categories"] = list(self.categories)
        if self.min_price is not None:
            clauses.append(sql.SQL("{}.price >= %(f_min_price)s").format(p))
            params["f_min_price"] = self.min_price
        if self.max_price is not None:
            clauses.append(sql.SQL("{}.price <= %(f_max_price)s").format(p))
            params["f_max_price"] = self.max_price
        if self.in_stock is not None:
            clauses.append(sql.SQL("{}.in_stock = %(f_in_stock)s").format(p))
            params["f_in_stock"] = self.in_stock
        if self.exclude:
            clauses.append(sql.SQL("{}.id <> ALL(%(f_exclude)s)").format(p))
            params["f_exclude"] = list(self.exclude)
        return sql.SQL(" AND ").join(clauses), params
