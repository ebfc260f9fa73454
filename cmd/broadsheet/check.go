package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/broadsheet/broadsheet/config"
	"github.com/broadsheet/broadsheet/feeds/fetch"
)

// checkLookupTimeout bounds all of `check`'s DNS lookups together: check
// must answer quickly, also on a machine without DNS.
const checkLookupTimeout = 3 * time.Second

// privateSourceWarnings returns one line for each source whose host
// resolves to an address the network guard refuses, so that `check`
// explains a refusal before the first poll reports it. It returns nothing
// when private networks are allowed. A name that does not resolve in time
// is left for the poll to report: check warns, it does not fail.
func privateSourceWarnings(ctx context.Context, path string, cfg *config.Config) []string {
	if cfg.AllowPrivateNetworks() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, checkLookupTimeout)
	defer cancel()
	hosts := make([]string, len(cfg.Sources))
	refused := map[string]string{} // host → its refused addresses
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		sema = make(chan struct{}, 16)
	)
	seen := map[string]bool{}
	for i, s := range cfg.Sources {
		u, err := url.Parse(s.URL)
		if err != nil || u.Hostname() == "" {
			continue // validation has said so already
		}
		hosts[i] = u.Hostname()
		if seen[hosts[i]] {
			continue
		}
		seen[hosts[i]] = true
		wg.Add(1)
		go func(host string) {
			defer wg.Done()
			sema <- struct{}{}
			defer func() { <-sema }()
			addrs, err := fetch.PrivateAddrs(ctx, nil, host)
			if err != nil || len(addrs) == 0 {
				return
			}
			list := make([]string, len(addrs))
			for j, a := range addrs {
				list[j] = a.String()
			}
			mu.Lock()
			refused[host] = strings.Join(list, ", ")
			mu.Unlock()
		}(hosts[i])
	}
	wg.Wait()
	var out []string
	for i, s := range cfg.Sources {
		addrs, ok := refused[hosts[i]]
		if !ok {
			continue
		}
		on := "resolves to " + addrs + " (private/loopback)"
		if addrs == hosts[i] {
			on = "is private/loopback"
		}
		out = append(out, fmt.Sprintf("warning: %s: sources[%d].url (%s): host %s %s, which polls refuse while fetch.allow_private_networks is false; %s",
			path, i, s.Name, hosts[i], on, fetch.PrivateNetworkAdvice))
	}
	return out
}
