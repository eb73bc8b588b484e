"""The guide's checks, one module per thing it warns about. Each takes the segments to read
and returns Findings; advice.check runs them all."""
