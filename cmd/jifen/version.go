package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version and revision may be stamped at build time with
// -ldflags "-X main.version=… -X main.revision=…" (the Dockerfile does, as
// its build context has no .git); the Go toolchain's build info wins when
// it knows them.
var (
	version  = ""
	revision = ""
)

// buildInfo is what `jifen version` reports.
type buildInfo struct {
	Version  string // module version, "(devel)" for a build from a checkout
	Revision string // VCS revision, "unknown" when neither the toolchain nor -ldflags stamped one
	Time     string // commit time (RFC 3339), when known
	Modified bool   // built from a tree with uncommitted changes
	Go       string
}

func (b buildInfo) String() string {
	s := fmt.Sprintf("jifen %s\nrevision %s", b.Version, b.Revision)
	if b.Time != "" {
		s += " (" + b.Time + ")"
	}
	if b.Modified {
		s += " with uncommitted changes"
	}
	return s + "\n" + b.Go
}

// buildVersion reads the running binary's build information.
func buildVersion() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(bi, version, revision)
}

// versionOf combines the toolchain's build information (nil when the
// binary has none) with the -ldflags stamps.
func versionOf(bi *debug.BuildInfo, stampedVersion, stampedRevision string) buildInfo {
	b := buildInfo{Version: stampedVersion, Revision: stampedRevision}
	if bi != nil {
		b.Go = bi.GoVersion
		if v := bi.Main.Version; v != "" && (v != "(devel)" || b.Version == "") {
			b.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	if b.Revision == "" {
		b.Revision = "unknown"
	}
	return b
}

func (c *cli) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the module version, the VCS revision and the Go version of this binary",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(c.stdout, buildVersion())
			return nil
		},
	}
}
