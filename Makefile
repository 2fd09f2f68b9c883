# Thin aliases for ./dev, which needs nothing but Python 3.11+ and git.
.PHONY: demo test lint worker beat bench

demo:
	./dev demo

test:
	./dev test

lint:
	./dev lint

worker:
	./dev worker

beat:
	./dev beat
