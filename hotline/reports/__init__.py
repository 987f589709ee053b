"""Reports from work orders: per day, shift, group and department."""
