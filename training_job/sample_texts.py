"""Shop-like English and Russian texts for the build's own checks (no data set needed)."""
from __future__ import annotations

ENGLISH = (
    "Red summer dress in airy cotton with a V-neck and short puff sleeves.",
    "Slim-fit jeans in washed stretch denim with a zip fly and five pockets.",
    "Leather wallet with six card slots and a coin pocket with a press stud.",
    "Chunky knit wool sweater with a high neck and ribbed cuffs.",
    "Running shoes with a breathable mesh upper and a cushioned sole.",
    "Waterproof hiking jacket with a detachable hood and taped seams.",
    "Silk scarf with a floral print, 90 x 90 cm.",
    "Men's cotton T-shirt, crew neck, regular fit, black.",
    "Stainless steel water bottle, keeps drinks cold for 24 hours.",
    "Wireless noise-cancelling headphones with 30 hours of battery life.",
    "Kids' rain boots in natural rubber with a pull-on loop.",
    "Ceramic coffee mug, 350 ml, dishwasher safe.",
    "Linen bed sheet set, queen size, stone washed for softness.",
    "Gold-plated hoop earrings, lightweight and nickel free.",
    "Yoga mat with a non-slip surface, 6 mm thick.",
    "Padded winter parka with a faux fur trim on the hood.",
    "Canvas tote bag with inner pocket and long handles.",
    "Lace bralette with adjustable straps and no underwire.",
    "Wool-blend coat, double-breasted, knee length, camel.",
    "Sunglasses with polarised lenses and a tortoiseshell frame.",
)

RUSSIAN = (
    "Красное летнее платье из лёгкого хлопка с V-образным вырезом.",
    "Джинсы узкого кроя из эластичного денима с пятью карманами.",
    "Кожаный кошелёк с шестью отделениями для карт и монетницей.",
    "Тёплый вязаный свитер из шерсти с высоким горлом.",
    "Беговые кроссовки с дышащим сетчатым верхом и мягкой подошвой.",
    "Непромокаемая куртка для походов со съёмным капюшоном.",
    "Шёлковый платок с цветочным принтом, 90 на 90 см.",
    "Мужская хлопковая футболка с круглым вырезом, чёрная.",
    "Стальная бутылка для воды сохраняет напитки холодными сутки.",
    "Беспроводные наушники с шумоподавлением и 30 часами работы.",
    "Детские резиновые сапоги для дождливой погоды.",
    "Керамическая кружка для кофе, 350 мл, можно мыть в посудомоечной машине.",
    "Комплект постельного белья из льна, двуспальный.",
    "Позолоченные серьги-кольца, лёгкие и без никеля.",
    "Коврик для йоги с нескользящим покрытием толщиной 6 мм.",
    "Зимняя стёганая парка с искусственным мехом на капюшоне.",
    "Холщовая сумка-шопер с внутренним карманом.",
    "Кружевной бюстгальтер без косточек с регулируемыми бретелями.",
    "Двубортное пальто из смесовой шерсти до колена, цвет кэмел.",
    "Солнцезащитные очки с поляризационными линзами.",
)

# (query, its translation, an unrelated query): the translation must land closer than the
# unrelated one. e5's cosines bunch together (unrelated texts near 0.78), so only the order is
# checked, never an absolute level.
CROSS_LINGUAL = (
    ("red summer dress", "красное летнее платье", "leather wallet"),
)
