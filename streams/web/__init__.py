"""The live page, its data and assets, the static report and exports."""
