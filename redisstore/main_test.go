package redisstore_test

import (
	"os"
	"testing"

	"github.com/apilayer/apilayer/redisstore"
)

func TestMain(m *testing.M) {
	redisstore.SetDriverLogger(nil) // the outage tests would fill the output with failed dials
	os.Exit(m.Run())
}
