.PHONY: notebooks test bench
notebooks:  ## execute every notebook in place (default parameters) and record its code hash
	.venv/bin/python tools/run_notebooks.py
test:
	bash scripts/test.sh
bench:
	bash scripts/main.sh
