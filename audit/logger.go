package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [Options].
const (
	DefaultQueueSize      = 10_000
	DefaultBatchSize      = 100
	DefaultFlushInterval  = time.Second
	DefaultStreamLinger   = 10 * time.Millisecond
	DefaultMaxRetries     = 5
	DefaultRetryBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultAttemptTimeout = 5 * time.Second
	DefaultCloseTimeout   = 5 * time.Second
)

// Options configures a [Logger]. The zero value writes the default events
// to standard output.
type Options struct {
	// Events are the enabled event types. If empty, DefaultEvents() is used.
	Events []string

	// Output is where events go: "stdout" (the default when empty),
	// "stderr", "file:<path>", or an http:// or https:// webhook URL.
	Output string

	// QueueSize bounds the events waiting for the output. If zero,
	// DefaultQueueSize is used.
	QueueSize int

	// WebhookSecret, when set, signs each webhook body: header
	// X-Apilayer-Signature: sha256=<hex HMAC-SHA256 of the body>.
	WebhookSecret string

	// Stdout and Stderr replace os.Stdout and os.Stderr (tests).
	Stdout, Stderr io.Writer

	// HTTPClient posts to the webhook. If nil, a client with no overall
	// timeout is used (each attempt is bounded by AttemptTimeout).
	HTTPClient *http.Client

	// Logger receives delivery problems (dropped events), rate-limited.
	// If nil, they are not logged (Dropped still counts the events).
	Logger *slog.Logger

	// Now stamps events emitted without a Timestamp. If nil, time.Now.
	Now func() time.Time

	// StreamLinger is how long a stream output (stdout, stderr, file) waits
	// after an event for more, so that they share one write. If zero,
	// DefaultStreamLinger is used.
	StreamLinger time.Duration

	// Webhook knobs. Zero means the default; a negative MaxRetries means no
	// retry.
	BatchSize      int           // events per POST (DefaultBatchSize)
	FlushInterval  time.Duration // longest wait for a batch to fill (DefaultFlushInterval)
	MaxRetries     int           // retries after the first attempt (DefaultMaxRetries)
	RetryBackoff   time.Duration // first wait, doubled each retry, with jitter (DefaultRetryBackoff)
	MaxBackoff     time.Duration // cap of one wait (DefaultMaxBackoff)
	AttemptTimeout time.Duration // one POST (DefaultAttemptTimeout)

	// CloseTimeout bounds how long Close spends delivering what is queued.
	// If zero, DefaultCloseTimeout is used.
	CloseTimeout time.Duration
}

// Logger sends audit events to an output from one background goroutine.
// It is safe for concurrent use. A nil *Logger is valid: Enabled reports
// false and Emit does nothing, so a disabled audit needs no checks.
type Logger struct {
	enabled       map[string]bool // read-only after New
	queue         chan Event
	out           sink
	now           func() time.Time
	log           *slog.Logger
	batchSize     int
	flushInterval time.Duration
	streamLinger  time.Duration
	closeTimeout  time.Duration

	dropped     atomic.Uint64
	lastDropLog atomic.Int64 // unix nanoseconds
	closed      atomic.Bool

	// ctx is cancelled when Close gives up waiting (CloseTimeout): it
	// aborts the webhook request in flight.
	ctx       context.Context
	cancel    context.CancelFunc
	stop      chan struct{} // closed by Close: drain and return
	done      chan struct{} // closed by run when it returns
	closeOnce sync.Once
	closeErr  error
}

// sink is an output. send delivers a batch of encoded events (each a JSON
// object) or returns why it could not; a failed batch is dropped. send is
// only called from the Logger's goroutine.
type sink interface {
	send(ctx context.Context, stop <-chan struct{}, events [][]byte) error
	close() error
}

// New checks opts, opens the output and starts the Logger's goroutine.
func New(opts Options) (*Logger, error) {
	l := &Logger{
		now:           opts.Now,
		log:           opts.Logger,
		batchSize:     opts.BatchSize,
		flushInterval: opts.FlushInterval,
		streamLinger:  opts.StreamLinger,
		closeTimeout:  opts.CloseTimeout,
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.batchSize <= 0 {
		l.batchSize = DefaultBatchSize
	}
	if l.streamLinger <= 0 {
		l.streamLinger = DefaultStreamLinger
	}
	if l.flushInterval <= 0 {
		l.flushInterval = DefaultFlushInterval
	}
	if l.closeTimeout <= 0 {
		l.closeTimeout = DefaultCloseTimeout
	}

	var errs []error
	events := opts.Events
	if len(events) == 0 {
		events = DefaultEvents()
	}
	l.enabled = make(map[string]bool, len(events))
	types := Types()
	for _, typ := range events {
		if !slices.Contains(types, typ) {
			errs = append(errs, fmt.Errorf("audit: events: unknown event type %q (known: %s)", typ, strings.Join(types, ", ")))
		}
		l.enabled[typ] = true
	}
	size := opts.QueueSize
	switch {
	case size == 0:
		size = DefaultQueueSize
	case size < 0:
		errs = append(errs, fmt.Errorf("audit: queueSize must not be negative (got %d)", size))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	out, err := openOutput(opts)
	if err != nil {
		return nil, err
	}
	l.out = out
	l.queue = make(chan Event, size)
	l.ctx, l.cancel = context.WithCancel(context.Background())
	go l.run()
	return l, nil
}

func openOutput(opts Options) (sink, error) {
	o := opts.Output
	switch {
	case o == "" || o == "stdout":
		w := opts.Stdout
		if w == nil {
			w = os.Stdout
		}
		return &streamSink{w: w}, nil
	case o == "stderr":
		w := opts.Stderr
		if w == nil {
			w = os.Stderr
		}
		return &streamSink{w: w}, nil
	case strings.HasPrefix(o, "file:"):
		path := strings.TrimPrefix(o, "file:")
		if path == "" {
			return nil, errors.New("audit: output: file: needs a path (file:/var/log/apilayer/audit.log)")
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("audit: output: %w", err)
		}
		return &streamSink{w: f, c: f}, nil
	case strings.HasPrefix(o, "http://") || strings.HasPrefix(o, "https://"):
		u, err := url.Parse(o)
		if err != nil || u.Host == "" {
			// The parse error would repeat the URL, which may hold a secret.
			return nil, errors.New("audit: output: invalid webhook URL")
		}
		return newWebhook(u, opts), nil
	}
	return nil, fmt.Errorf("audit: output: must be stdout, stderr, file:<path> or an http(s) URL (got %q)", redactOutput(o))
}

// redactOutput keeps enough of an unknown output value to recognise it.
func redactOutput(o string) string {
	if len(o) > 16 {
		return o[:16] + "..."
	}
	return o
}

// Enabled reports whether events of type typ are recorded. Callers may use
// it to skip building an event.
func (l *Logger) Enabled(typ string) bool {
	return l != nil && l.enabled[typ]
}

// Emit queues e if its type is enabled. It never blocks: when the queue is
// full (the output is slow or down) or the Logger is closed, e is dropped
// and counted. A zero Timestamp is set to now.
func (l *Logger) Emit(e Event) {
	if !l.Enabled(e.Type) {
		return
	}
	if l.closed.Load() {
		l.drop(1, errClosed)
		return
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = l.now()
	}
	select {
	case l.queue <- e:
	default:
		l.drop(1, errQueueFull)
	}
}

var (
	errQueueFull = errors.New("audit: queue full")
	errClosed    = errors.New("audit: logger closed")
)

// Dropped returns how many enabled events were lost: queue full, logger
// closed, not encodable, or not delivered.
func (l *Logger) Dropped() uint64 {
	if l == nil {
		return 0
	}
	return l.dropped.Load()
}

const dropLogEvery = 10 * time.Second

// maxArena bounds the encoding buffer the writer keeps between batches.
const maxArena = 1 << 20

func (l *Logger) drop(n int, reason error) {
	total := l.dropped.Add(uint64(n))
	now := time.Now().UnixNano()
	last := l.lastDropLog.Load()
	if last != 0 && now-last < int64(dropLogEvery) {
		return
	}
	if l.lastDropLog.CompareAndSwap(last, now) {
		l.log.Warn("audit: events dropped", "count", n, "totalDropped", total, "reason", reason.Error())
	}
}

// Close stops accepting events, delivers what is queued (giving up after
// CloseTimeout, the rest being dropped and counted), stops the goroutine
// and closes a file output. It is idempotent and returns the same error
// each time. Webhook requests are cancelled at CloseTimeout; a stream write
// cannot be, so a write that never returns (a pipe nobody reads) holds
// Close until it does.
func (l *Logger) Close() error {
	if l == nil {
		return nil
	}
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		close(l.stop)
		t := time.NewTimer(l.closeTimeout)
		select {
		case <-l.done:
			t.Stop()
		case <-t.C:
			l.cancel()
			<-l.done
		}
		l.cancel()
		// An Emit that raced with Close may have queued after run returned.
	leftovers:
		for {
			select {
			case <-l.queue:
				l.drop(1, errClosed)
			default:
				break leftovers
			}
		}
		l.closeErr = l.out.close()
	})
	return l.closeErr
}

// run is the Logger's goroutine: it batches queued events and sends them.
// Stream outputs get what is queued within StreamLinger of the first event
// in one write; a webhook batch waits up to flushInterval to fill.
func (l *Logger) run() {
	defer close(l.done)
	_, isStream := l.out.(*streamSink)
	batch := make([][]byte, 0, l.batchSize)
	var arena []byte
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	waiting := false // timer armed for the current batch

	flush := func() {
		if waiting {
			timer.Stop()
			waiting = false
		}
		if len(batch) == 0 {
			return
		}
		if err := l.out.send(l.ctx, l.stop, batch); err != nil {
			l.drop(len(batch), err)
		}
		clear(batch)
		batch = batch[:0]
		if cap(arena) > maxArena {
			arena = nil // a burst of large events is not kept
		}
		arena = arena[:0]
	}
	add := func(e Event) {
		// Every event of a batch is encoded into one arena; the sinks copy
		// the batch before send returns. A grown arena leaves the earlier
		// events in the old array, still referenced by batch.
		start := len(arena)
		var err error
		if arena, err = e.AppendJSON(arena); err != nil {
			l.drop(1, err)
			return
		}
		batch = append(batch, arena[start:len(arena):len(arena)])
		if len(batch) >= l.batchSize {
			flush()
		}
	}

	for {
		select {
		case e := <-l.queue:
			add(e)
		drain:
			for {
				select {
				case e := <-l.queue:
					add(e)
				default:
					break drain
				}
			}
			if isStream {
				// Linger before writing, without reading the queue: the
				// events queued meanwhile share one write. Under load that
				// is one write (and one wake-up of this goroutine) per
				// linger instead of per event.
				linger.Reset(l.streamLinger)
				select {
				case <-linger.C:
				case <-l.stop: // the next turn of the loop drains and returns
				}
			lingered:
				for {
					select {
					case e := <-l.queue:
						add(e)
					default:
						break lingered
					}
				}
				flush()
			} else if len(batch) > 0 && !waiting {
				timer.Reset(l.flushInterval)
				waiting = true
			}
		case <-timer.C:
			waiting = false
			flush()
		case <-l.stop:
			for {
				select {
				case e := <-l.queue:
					add(e)
				default:
					flush()
					return
				}
			}
		}
	}
}
