# The two commands of the README. Everything else is in scripts/.
.PHONY: run run-services test build clean

## run: start Azurite, the ThingSpace simulator and the host on 127.0.0.1 (Ctrl-C stops all)
run:
	@bash scripts/run-local.sh

## run-services: only Azurite and the simulator, for the Function App under `func start` (see README)
run-services:
	@NO_HOST=1 bash scripts/run-local.sh

## test: build (warnings are errors; NU1603 is allowed) and run every test (starts and stops its own Azurite instances)
test:
	@bash scripts/test.sh

build:
	dotnet build Orchestrations.sln

clean:
	dotnet clean Orchestrations.sln -v:quiet
	rm -rf .azurite
