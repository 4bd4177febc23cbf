"""Wait-estimation benchmark: scenario generator, runner and cost measurement."""
