package tracing_test

import (
	"fmt"
	"log"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/tracing"
)

// A program that embeds the gateway and wants tracing.* gives New the
// builder of the exporters, as the apilayer binary does.
func ExampleBuild() {
	cfg := config.Config{
		Backend: config.Backend{URL: "http://127.0.0.1:8000/api/"},
		Tracing: config.Tracing{Enabled: true, Exporter: "otlp-http", Endpoint: "http://127.0.0.1:4318"},
	}
	gw, err := apilayer.New(cfg, apilayer.WithTracing(tracing.Build))
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close() // flushes the spans and stops the exporter
	fmt.Println("tracing to", cfg.Tracing.Endpoint)
	// Output: tracing to http://127.0.0.1:4318
}
