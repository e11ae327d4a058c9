// Package docs embeds the OpenAPI description of Jifen's HTTP API, served at
// /openapi.yaml and used by the HTTP tests to validate every response.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
