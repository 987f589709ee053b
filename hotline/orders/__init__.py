"""Work orders (工单): what a call or a written message becomes, from intake to the
department and back to the citizen."""
