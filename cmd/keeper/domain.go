package main

import (
	"context"
	"log/slog"

	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/keepers/keeperconfig"
	"github.com/modelcommons/modelcommons/keepers/keeperd"
)

// domainFlag makes `keeper run` the front door of a domain.
var domainFlag = &cli.StringFlag{Name: "domain", Usage: "serve as the front door of this domain (its account, `mt domain show`): " +
	"route requests to its members instead of local workers", EnvVars: []string{"KEEPER_DOMAIN"}}

// runFrontDoor runs the front door of the domain given by --domain.
func runFrontDoor(ctx context.Context, cfg keeperconfig.Config, domain string, log *slog.Logger) error {
	cfg.Domain.Address, cfg.Domain.Serve = domain, true
	fd, err := keeperd.NewFrontDoor(cfg, log)
	if err != nil {
		return err
	}
	return fd.Run(ctx)
}
