// Package config reads a service's configuration from its environment with
// caarlos0/env, and makes every error name the variable at fault, so that a
// typo in a manifest is found from the pod's log in one read.
package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/caarlos0/env/v11"
)

// Prefix starts every podpaths variable. Kubernetes injects variables such as
// BACKEND_PORT=tcp://10.96.4.20:8080 into every pod, which would collide with
// unprefixed names.
const Prefix = "PODPATHS_"

// Parse fills cfg (a pointer to a struct with env tags) from environ, a list
// of KEY=value strings such as os.Environ returns.
func Parse(environ []string, cfg any) error {
	err := env.ParseWithOptions(cfg, env.Options{Environment: env.ToMap(environ), Prefix: Prefix})
	if err == nil {
		return nil
	}
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("config: %w", err)
	}
	keys := envKeys(reflect.TypeOf(cfg), Prefix)
	errs := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			errs = append(errs, fmt.Errorf("invalid %s: %w", keys[pe.Name], pe.Err))
			continue
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// envKeys maps each field name of struct type t to its variable name, walking
// nested structs the way caarlos0/env does.
func envKeys(t reflect.Type, prefix string) map[string]string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	keys := make(map[string]string)
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Tag.Get("env") == "" {
			for k, v := range envKeys(f.Type, prefix+f.Tag.Get("envPrefix")) {
				keys[k] = v
			}
			continue
		}
		if name, _, _ := strings.Cut(f.Tag.Get("env"), ","); name != "" {
			keys[f.Name] = prefix + name
		}
	}
	return keys
}

// Environ turns environ into a map, for code that looks variables up by name.
func Environ(environ []string) map[string]string { return env.ToMap(environ) }
