"""Offline validation of Kubernetes manifests: driftwatch's own (deploy/*.yaml) and any given files
(what `driftwatch remediation render` writes). See scripts/validate-manifests.sh for the options,
the checks and the output.

Modules: cli (arguments, the run, the summary), documents (strict YAML/JSON loading), schemas
((a) kubernetes-validate --strict and (b) the CRD and Argo schemas), checks ((c)-(e): what the
schemas cannot say), driftwatch_config (the ConfigMap's configuration, checked by
`driftwatch config check`), util, report, context.
"""
