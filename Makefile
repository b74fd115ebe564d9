.PHONY: notebooks test bench
notebooks:  ## re-execute every notebook in place with the parameters of its committed run, and record its code hash
	.venv/bin/python tools/run_notebooks.py --as-committed
test:
	bash scripts/test.sh
bench:
	bash scripts/main.sh
