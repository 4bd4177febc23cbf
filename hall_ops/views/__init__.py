"""Pages of the operations layer: the hall manager's board, the floor staff's tablet
and the director's overview."""
