package main

import (
	"math"
	"testing"
	"time"
)

func TestBucketBoundsHoldTheValue(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 999_999, 1 << 40, math.MaxUint64} {
		i := bucketOf(v)
		lo, hi := bounds(i)
		if v < lo || v > hi {
			t.Errorf("value %d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if i < 0 || i >= buckets {
			t.Errorf("value %d: bucket %d out of range", v, i)
		}
		if v >= subCount && float64(hi-lo) > float64(lo)/subCount {
			t.Errorf("value %d: bucket [%d, %d] wider than 1/%d", v, lo, hi, subCount)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	uniform := func() *histogram {
		h := &histogram{}
		for i := 1; i <= 1000; i++ {
			h.record(time.Duration(i) * time.Microsecond)
		}
		return h
	}
	for _, tc := range []struct {
		name string
		h    *histogram
		q    float64
		want time.Duration
	}{
		{"empty", &histogram{}, 0.99, 0},
		{"uniform p50", uniform(), 0.5, 500 * time.Microsecond},
		{"uniform p99", uniform(), 0.99, 990 * time.Microsecond},
		{"uniform max", uniform(), 1, 1000 * time.Microsecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.h.quantile(tc.q)
			if math.Abs(float64(got-tc.want)) > float64(tc.want)/subCount {
				t.Errorf("quantile(%v) = %v, want %v within 1/%d", tc.q, got, tc.want, subCount)
			}
		})
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b histogram
	a.record(time.Millisecond)
	b.record(3 * time.Millisecond)
	b.record(3 * time.Millisecond)
	a.merge(&b)
	if a.total != 3 {
		t.Fatalf("total %d, want 3", a.total)
	}
	if got := a.quantile(0.5); math.Abs(float64(got-3*time.Millisecond)) > float64(3*time.Millisecond)/subCount {
		t.Errorf("median %v, want 3ms", got)
	}
	if got := a.quantile(1); got != 3*time.Millisecond {
		t.Errorf("max %v, want exactly 3ms", got)
	}
}
