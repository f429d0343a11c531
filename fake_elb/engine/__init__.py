"""Run Pulumi programs offline: the real CLI and the in-process engine; no fake inside."""
