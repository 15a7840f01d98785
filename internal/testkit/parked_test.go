package testkit

import "testing"

func TestCountParked(t *testing.T) {
	stacks := "goroutine 1 [running]:\nmain.a(\n\n" +
		"goroutine 2 [select]:\nsession.(*Manager).shared(\nsession.(*Manager).refresh(\n\n" +
		"goroutine 3 [chan receive]:\nsession.(*Manager).shared(\n\n" +
		"goroutine 4 [running]:\nsession.(*Manager).shared(\n"
	for _, tt := range []struct {
		frames []string
		want   int
	}{
		{[]string{"session.(*Manager).shared("}, 2},
		{[]string{"session.(*Manager).shared(", "session.(*Manager).refresh("}, 1},
		{[]string{"nowhere("}, 0},
	} {
		if got := countParked(stacks, tt.frames); got != tt.want {
			t.Errorf("countParked(%v) = %d, want %d", tt.frames, got, tt.want)
		}
	}
}

func TestWaitParkedFindsABlockedGoroutine(t *testing.T) {
	block := make(chan struct{})
	done := make(chan struct{})
	go func() { parkedForTest(block); close(done) }()
	if err := WaitParked(1, "testkit.parkedForTest("); err != nil {
		t.Fatal(err)
	}
	close(block)
	<-done
}

//go:noinline
func parkedForTest(c chan struct{}) { <-c }
