package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"

	"github.com/goccy/go-yaml/ast"
)

// envFunc looks up an environment variable, as os.LookupEnv does.
type envFunc func(string) (string, bool)

// Load reads the configuration file at path: Default(), then the file with
// ${VAR} references expanded, then the environment overrides listed in the
// package comment, then Validate. A file that cannot be read gives an error
// wrapping the os error (errors.Is(err, fs.ErrNotExist) works); every
// problem with its content comes in one *Error.
func Load(path string) (*Config, error) {
	return load(path, os.LookupEnv)
}

func load(path string, env envFunc) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	// One byte past the limit is enough for checkShape to refuse the file,
	// without reading a huge one (or a device) into memory.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return parseWith(path, data, env)
}

// Parse is Load for a file already in memory; name is used in messages.
func Parse(name string, data []byte) (*Config, error) {
	return parseWith(name, data, os.LookupEnv)
}

func parseWith(name string, data []byte, env envFunc) (*Config, error) {
	c := Default()
	c.Path = name
	c.meta = newMeta()
	c.meta.pos[""] = pos{1, 1}

	// Editors on Windows may start the file with a byte order mark, which
	// YAML would otherwise read as part of the first key.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if p := checkShape(data); p != nil {
		return nil, &Error{File: name, Problems: []Problem{*p}}
	}
	f, err := parseYAML(data)
	if err != nil {
		return nil, &Error{File: name, Problems: []Problem{syntaxProblem(err)}, cause: err}
	}
	d := &decoder{env: env, meta: c.meta, aliases: map[*ast.AliasNode]ast.Node{}, budget: maxNodes}
	var body ast.Node
	for i, doc := range f.Docs {
		if i == 0 {
			body = doc.Body
			continue
		}
		if doc.Body != nil {
			d.add(nodePos(doc.Body), "", "a config file holds one YAML document: remove the second --- and merge the two")
			break
		}
	}
	if body != nil {
		d.collectAliases(body, map[string]ast.Node{})
		if _, isMap := body.(*ast.MappingNode); isMap || isMapping(body) {
			d.decode(body, reflect.ValueOf(c).Elem(), "", pos{1, 1})
		} else if !isNull(body) {
			d.add(nodePos(body), "", "the file must be a block of keys such as \"sources:\" and \"storage:\", not %s", describe(body))
		}
	}
	c.applyEnv(env)
	var probs []Problem
	if d.budget > 0 { // past it the values are cut short; checking them would only add noise
		probs = c.validate()
	}
	if err := c.errorOf(probs, d.probs); err != nil {
		return nil, err
	}
	return c, nil
}

// isMapping reports whether n is a mapping once anchors and tags are
// stripped.
func isMapping(n ast.Node) bool {
	for {
		switch v := n.(type) {
		case *ast.MappingNode, *ast.MappingValueNode:
			return true
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return false
		}
	}
}

// applyEnv applies the environment overrides listed in the package comment
// and remembers which variable set which key, for messages.
func (c *Config) applyEnv(env envFunc) {
	set := func(name, key string, dst *string) {
		if v, ok := env(name); ok && v != "" {
			*dst = v
			if c.meta != nil {
				c.meta.env[key] = name
			}
		}
	}
	set("BROADSHEET_STORAGE_DRIVER", "storage.driver", &c.Storage.Driver)
	set("BROADSHEET_STORAGE_PATH", "storage.path", &c.Storage.Path)
	set("BROADSHEET_STORAGE_DSN", "storage.dsn", &c.Storage.DSN)
	if c.Storage.Driver == DriverPostgres && c.Storage.DSN == "" {
		set("DATABASE_URL", "storage.dsn", &c.Storage.DSN)
	}
	set("BROADSHEET_LISTEN", "server.listen", &c.Server.Listen)
	set("BROADSHEET_BASE_URL", "server.base_url", &c.Server.BaseURL)
	set("BROADSHEET_LOG_LEVEL", "log.level", &c.Log.Level)
}
