"""shop-api: orders, payments and customers."""
