package main

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two is split into
// 2^subBits buckets, so a recorded value is known within 1/64 (1.6%).
const subBits = 6

const (
	subCount = 1 << subBits
	// buckets covers every uint64: values below subCount exactly, then
	// subCount buckets for each of the 64-subBits higher powers of two.
	buckets = (64 - subBits + 1) * subCount
)

// histogram records durations in log-linear buckets, HDR-style: constant
// memory, constant relative error, mergeable. The zero value is empty and
// ready to use. It is not safe for concurrent use: each load worker owns
// one and they are merged at the end.
type histogram struct {
	counts [buckets]uint64
	total  uint64
	max    uint64
}

// bucketOf returns the bucket of v (nanoseconds).
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // keeps the subBits+1 top bits: v>>shift is in [subCount, 2*subCount)
	return (shift+1)*subCount + int(v>>uint(shift)) - subCount
}

// bounds returns the smallest and largest value of bucket i.
func bounds(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	shift := uint(i/subCount - 1)
	m := uint64(i%subCount + subCount)
	lo = m << shift
	return lo, lo + (1 << shift) - 1
}

func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	h.total++
	h.max = max(h.max, v)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 < q <= 1) as the midpoint of the
// bucket holding it, never more than the largest recorded value (exactly
// that value for the top rank); zero when nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	if rank == h.total {
		return time.Duration(h.max)
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bounds(i)
			return time.Duration(min(lo+(hi-lo)/2, h.max))
		}
	}
	return time.Duration(h.max)
}
