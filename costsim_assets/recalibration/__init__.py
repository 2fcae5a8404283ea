"""Champion and challenger: when to refit V2 on realized outcomes, and whether a challenger passed."""
