"""Development tools of fargate-env (never deployed): what `make check` runs besides the linters."""
