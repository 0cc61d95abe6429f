"""Offline evaluation: split a dataset's events, fit every recommender on the training part,
predict each test user's next items, and score them with the same metrics side by side."""
