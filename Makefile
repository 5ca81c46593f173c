# podpaths: every recipe calls a script in hack/, so each can also be run,
# read and debugged on its own. `make help` lists the targets.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the three services into _output/bin.
	@hack/build.sh

.PHONY: run
run: build ## Run backend, sidecar and frontend on this machine, no cluster (Ctrl-C stops).
	@hack/run.sh

.PHONY: test
test: ## Run every Go test with the race detector (what CI runs).
	@hack/test.sh

.PHONY: verify
verify: ## gofmt, vet, tidy, linters, shellcheck, rendered manifests, nginx -t.
	@hack/verify.sh

.PHONY: bench
bench: build ## Go benchmarks plus a short load run on loopback.
	@hack/bench.sh

.PHONY: images
images: ## Build the images (services + offline nginx stand-in) into _output/images.
	@hack/images.sh

.PHONY: compose-up
compose-up: images ## Run the suite under docker compose: http://127.0.0.1:8088
	@hack/compose-plugin.sh
	@hack/docker-engine.sh guard >/dev/null
	@PODPATHS_TAG=$$(cat VERSION) docker compose up --detach --wait

.PHONY: compose-down
compose-down: ## Stop the compose suite, remove its volumes and the egress guard.
	@docker compose down --volumes --remove-orphans
	@hack/docker-engine.sh unguard

.PHONY: compose-test
compose-test: ## The compose smoke test: up, check every path through nginx, down.
	@hack/compose-test.sh

.PHONY: kind-up
kind-up: ## The lab on kind: cluster, images, deploy, wait, URLs (docs/lab.md); KEEP=1 keeps failed nodes.
	@hack/lab.sh $(if $(KEEP),--keep) $(if $(KIND_CONFIG),--kind-config $(KIND_CONFIG)) \
	  $(if $(CLOUD_PROVIDER_KIND),--cloud-provider-kind $(CLOUD_PROVIDER_KIND)) \
	  $(if $(KIND_EXTERNAL_LB_IMAGE),--external-lb-image $(KIND_EXTERNAL_LB_IMAGE)) up

.PHONY: kind-down
kind-down: ## Delete the kind lab and stop the cloud-provider-kind it started.
	@hack/lab.sh down

.PHONY: local-up
local-up: ## The lab on the offline local cluster (root; 2 nodes, LOCAL_NODES=1 for one): build, start, deploy, wait.
	@hack/lab.sh --provider local $(if $(LOCAL_NODES),--nodes $(LOCAL_NODES)) \
	  $(if $(LOCAL_OUTSIDE_RANGE),--outside-range $(LOCAL_OUTSIDE_RANGE)) \
	  $(if $(LOCAL_NODE_LINK_RANGE),--node-link-range $(LOCAL_NODE_LINK_RANGE)) up

.PHONY: local-down
local-down: ## Stop the offline local cluster and remove everything it added.
	@hack/lab.sh --provider local down

.PHONY: e2e
e2e: ## The e2e suite on the local cluster while it is up; CLUSTER=kind|other for another; JUNIT=file for XML; LEAVE_OUT=regexp; SKIPS=file.
	@hack/e2e.sh $(if $(CLUSTER),--cluster $(CLUSTER)) $(if $(JUNIT),--junit $(JUNIT)) $(if $(LEAVE_OUT),--leave-out '$(LEAVE_OUT)') $(if $(SKIPS),--skip-budget $(SKIPS))

# make check talks to the local cluster while it is up, else to kind.
LAB_PROVIDER ?= $(if $(wildcard /var/lib/podpaths/local/cluster.json),local,kind)

.PHONY: check
check: ## The reachability matrix against the current lab; JUNIT=file writes JUnit XML.
	@hack/lab.sh --provider $(LAB_PROVIDER) check $(if $(JUNIT),--junit $(JUNIT))

.PHONY: doctor
doctor: ## Check this machine for what the lab needs (the local lab's when it is up, else kind's; LAB_PROVIDER=local).
	@hack/lab.sh --provider $(LAB_PROVIDER) doctor

.PHONY: exercise
exercise: ## The workshop: list the exercises, or run one with N=<number> (docs/workshop.md).
	@hack/lab.sh --provider $(LAB_PROVIDER) exercise $(N)

.PHONY: exercise-check
exercise-check: ## Compare the lab with the active exercise again; exit 1 when an observation is missing.
	@hack/lab.sh --provider $(LAB_PROVIDER) exercise check

.PHONY: exercise-reset
exercise-reset: ## Take the lab back to the base after an exercise, and prove every path green.
	@hack/lab.sh --provider $(LAB_PROVIDER) exercise reset

.PHONY: clean
clean: ## Stop a Docker engine these scripts started and remove build output.
	@hack/docker-engine.sh stop
	rm -rf _output
