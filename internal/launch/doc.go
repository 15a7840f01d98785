// Package launch starts the complete setups behind the apilayer command:
// Demo runs the demo backend and demo web app with the gateway in front.
package launch
