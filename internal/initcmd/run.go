package initcmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrCanceled is returned by Run when the setup was cancelled: the context
// was done (Ctrl-C), the input ended before the last answer, or the user
// declined to overwrite the file. Nothing was written.
var ErrCanceled = errors.New("initcmd: setup cancelled")

// ErrExists is returned by Run when the file exists and neither the user
// (at the prompt) nor Options.Force allowed overwriting it.
var ErrExists = errors.New("initcmd: file exists")

// Options configure Run.
type Options struct {
	// In holds the answers, one line each. It is read by a goroutine that
	// ends when In reports EOF or an error; when ctx is done first, Run
	// returns at once and that goroutine ends with In (a blocked read
	// cannot be interrupted: close In, or let the process exit).
	In io.Reader
	// Out receives the questions and the summary.
	Out io.Writer
	// Path is the file to write; default apilayer.yaml.
	Path string
	// Yes takes every default without reading In.
	Yes bool
	// Force overwrites an existing Path without asking.
	Force bool
}

// Run asks the questions on o.Out, reads the answers from o.In, and writes
// the config file. The file is written at the very end (a temporary file in
// the same folder, renamed into place), so when ctx is done or the input
// ends earlier, nothing is written.
func Run(ctx context.Context, o Options) error {
	if o.Path == "" {
		o.Path = "apilayer.yaml"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	p := &prompter{ctx: ctx, out: o.Out}
	if !o.Yes {
		if o.In == nil {
			o.In = strings.NewReader("")
		}
		p.lines = make(chan line)
		p.done = make(chan struct{})
		defer close(p.done)
		go readLines(o.In, p.lines, p.done)
	}

	fmt.Fprintf(o.Out, "apilayer setup: writes %s\n\n", o.Path)
	overwrite := o.Force
	if _, err := os.Lstat(o.Path); err == nil && !o.Force {
		if o.Yes {
			return fmt.Errorf("%w: %s", ErrExists, o.Path)
		}
		ok, err := p.yesNo(o.Path+" already exists. Overwrite?", false)
		if err != nil {
			return err
		}
		if !ok {
			return ErrCanceled
		}
		overwrite = true
	}

	a := DefaultAnswers()
	if !o.Yes {
		var err error
		if a, err = ask(p); err != nil {
			return err
		}
	}
	data, err := Render(a)
	if err != nil {
		return err
	}
	if err := writeFile(ctx, o.Path, data, overwrite); err != nil {
		return err
	}
	summary(o.Out, o.Path, a)
	return nil
}

// tokenShape says where p reads the login token, for the migration warning.
func tokenShape(p Preset) string {
	return fmt.Sprintf("the token at %s and the user at %s", p.Mapping.AccessToken, p.Mapping.User)
}

// ask asks every question: whether the app comes from next-api-layer, then
// next-api-layer's setup questions in its order.
func ask(p *prompter) (Answers, error) {
	a := DefaultAnswers()
	var err error
	step := func(f func() error) {
		if err == nil {
			err = f()
		}
	}
	step(func() error {
		var err error
		a.Migrating, err = p.yesNo("Migrating from next-api-layer (the backend keeps the answers it gives today)?", false)
		return err
	})
	step(func() error {
		fmt.Fprintln(p.out, "Backend framework:")
		for i, pr := range Presets {
			fmt.Fprintf(p.out, "  %d) %s\n", i+1, pr.Name)
		}
		n := len(Presets)
		def := slices.IndexFunc(Presets, func(pr Preset) bool { return pr.Key == "other" }) + 1
		if a.Migrating {
			def = slices.IndexFunc(Presets, func(pr Preset) bool { return pr.Key == NextAPILayer }) + 1
		}
		s, err := p.askValid(fmt.Sprintf("Select (1-%d)", n), strconv.Itoa(def), func(s string) error {
			if i, err := strconv.Atoi(s); err != nil || i < 1 || i > n {
				return fmt.Errorf("initcmd: answer a number from 1 to %d", n)
			}
			return nil
		})
		if err != nil {
			return err
		}
		i, _ := strconv.Atoi(s)
		a.Framework = Presets[i-1].Key
		return nil
	})
	step(func() error {
		// A backend built for next-api-layer answers next-api-layer's shape
		// whatever its framework: a framework preset that reads another
		// shape would answer every login 502 and mint no guest.
		chosen, _ := PresetByKey(a.Framework)
		if !a.Migrating || chosen.Key == NextAPILayer || chosen.Mapping == nalMapping {
			return nil
		}
		fmt.Fprintf(p.out, "  The %s preset reads %s;\n  a backend built for next-api-layer answers {\"success\": true, \"data\": {\"accessToken\": ...}}.\n",
			chosen.Name, tokenShape(chosen))
		keep, err := p.yesNo("Use the "+chosen.Name+" answers anyway?", false)
		if err != nil || keep {
			return err
		}
		a.Framework, a.MethodSpoofing = NextAPILayer, chosen.Spoofing
		return nil
	})
	step(func() error {
		if a.Framework != NextAPILayer || a.MethodSpoofing != "" {
			return nil
		}
		on, err := p.yesNo("Method spoofing: send PUT/PATCH/DELETE as POST with _method (next-api-layer did for Laravel and Rails)?", false)
		if on {
			a.MethodSpoofing = "body"
		}
		return err
	})
	step(func() error {
		var err error
		a.BackendURL, err = p.askValid("Backend API URL (empty: read $"+DefaultBackendEnv+" at start, else "+DefaultBackendURL+")", "", func(s string) error {
			if s == "" {
				return nil
			}
			return checkURL(s)
		})
		return err
	})
	step(func() error {
		var err error
		a.UpstreamURL, err = p.askValid("Web app URL (where pages go)", DefaultUpstreamURL, checkURL)
		return err
	})
	step(func() error {
		var err error
		if a.I18n, err = p.yesNo("Use i18n (locale-prefixed pages, ?lang= on API calls)?", false); err != nil || !a.I18n {
			return err
		}
		s, err := p.askValid("Locales (comma-separated, e.g. en,tr)", "en", func(s string) error {
			l := splitList(s)
			if len(l) == 0 {
				return errors.New("initcmd: list at least one locale")
			}
			for _, x := range l {
				if err := checkLocale(x); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		a.Locales = splitList(s)
		a.DefaultLocale, err = p.askValid("Default locale", a.Locales[0], func(s string) error {
			for _, l := range a.Locales {
				if l == s {
					return nil
				}
			}
			return fmt.Errorf("initcmd: answer one of %s", strings.Join(a.Locales, ", "))
		})
		return err
	})
	step(func() error {
		var err error
		if a.Guest, err = p.yesNo("Use guest tokens for anonymous visitors?", false); err != nil || !a.Guest {
			return err
		}
		if a.GuestUserEnv, err = p.askValid("Environment variable holding the guest username", DefaultGuestUserEnv, checkEnvName); err != nil {
			return err
		}
		a.GuestPassEnv, err = p.askValid("Environment variable holding the guest password", DefaultGuestPassEnv, checkEnvName)
		return err
	})
	step(func() error {
		s, err := p.askValid("Protected routes (comma-separated, e.g. /dashboard,/account)", "", checkRoutes)
		a.ProtectedRoutes = splitList(s)
		return err
	})
	step(func() error {
		s, err := p.askValid("Auth routes, where signed-in users are sent home (comma-separated)", strings.Join(a.AuthRoutes, ","), checkRoutes)
		a.AuthRoutes = splitList(s)
		return err
	})
	return a, err
}

func checkRoutes(s string) error {
	for _, r := range splitList(s) {
		if err := checkRoute(r); err != nil {
			return err
		}
	}
	return nil
}

// summary prints what was written and what to do next.
func summary(w io.Writer, path string, a Answers) {
	fmt.Fprintf(w, "\nCreated %s\n\nNext steps:\n", path)
	if a.BackendURL == "" {
		fmt.Fprintf(w, "  export %s=https://your-backend.example/api/   # else %s\n", DefaultBackendEnv, DefaultBackendURL)
	}
	if a.Guest {
		fmt.Fprintf(w, "  export %s=... %s=...   # the guest credentials\n", a.GuestUserEnv, a.GuestPassEnv)
	}
	fmt.Fprintf(w, "  apilayer check --config %s   # the resolved config, secrets redacted\n", path)
	fmt.Fprintf(w, "  apilayer serve --config %s\n", path)
	if spoof := a.spoofing(); spoof != "" {
		fmt.Fprintf(w, "Method spoofing is on (PUT/PATCH/DELETE -> POST, strategy %s).\n", spoof)
	}
	fmt.Fprintf(w, "Compare the answer shapes in the file's comments with your backend's, or let the gateway call it:\n")
	fmt.Fprintf(w, "  APILAYER_PROBE_LOGIN=user:password apilayer check --probe --config %s\n", path)
	if a.Migrating {
		fmt.Fprintf(w, "Then follow docs/migrating-from-next-api-layer.md from step 2's list after init\n")
		fmt.Fprintf(w, "(cookie names, role rules, the App Router keys), then step 3.\n")
	}
}

// writeFile writes data to path through a temporary file in the same
// folder. Without overwrite, an existing path is never replaced (not even
// one created while the questions were asked). When ctx is done before the
// rename, the temporary file is removed and nothing is written.
func writeFile(ctx context.Context, path string, data []byte, overwrite bool) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("initcmd: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err != nil {
		return fmt.Errorf("initcmd: %w", err)
	}
	if ctx.Err() != nil {
		return ErrCanceled
	}
	if overwrite {
		if err = os.Rename(tmp, path); err != nil {
			return fmt.Errorf("initcmd: %w", err)
		}
		return nil
	}
	// A hard link fails when path exists: no file is ever clobbered.
	if err = os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		return fmt.Errorf("initcmd: %w", err)
	}
	os.Remove(tmp)
	return nil
}

// line is one line of input, or the error that ended it.
type line struct {
	s   string
	err error
}

// readLines sends the lines of r to lines until r ends (the last value
// carries the error, io.EOF at the end) or done is closed.
func readLines(r io.Reader, lines chan<- line, done <-chan struct{}) {
	br := bufio.NewReader(r)
	for {
		s, err := br.ReadString('\n')
		if s != "" {
			select {
			case lines <- line{s: strings.TrimRight(s, "\r\n")}:
			case <-done:
				return
			}
		}
		if err != nil {
			select {
			case lines <- line{err: err}:
			case <-done:
			}
			return
		}
	}
}

// prompter asks questions on out and reads the answers from lines.
type prompter struct {
	ctx   context.Context
	out   io.Writer
	lines chan line
	done  chan struct{}
	ended bool // the input has ended
}

// read returns the next answer, trimmed.
func (p *prompter) read() (string, error) {
	if p.ended {
		return "", ErrCanceled
	}
	select {
	case <-p.ctx.Done():
		return "", ErrCanceled
	case l := <-p.lines:
		if l.err != nil {
			p.ended = true
			if l.err == io.EOF {
				return "", ErrCanceled
			}
			return "", fmt.Errorf("initcmd: reading the answers: %w", l.err)
		}
		return strings.TrimSpace(l.s), nil
	}
}

// askValid asks until the answer (def when empty) passes valid.
func (p *prompter) askValid(q, def string, valid func(string) error) (string, error) {
	for {
		if def != "" {
			fmt.Fprintf(p.out, "%s [%s]: ", q, def)
		} else {
			fmt.Fprintf(p.out, "%s: ", q)
		}
		s, err := p.read()
		if err != nil {
			return "", err
		}
		if s == "" {
			s = def
		}
		if err := valid(s); err != nil {
			fmt.Fprintf(p.out, "  %s\n", strings.TrimPrefix(err.Error(), "initcmd: "))
			continue
		}
		return s, nil
	}
}

// yesNo asks a y/n question.
func (p *prompter) yesNo(q string, def bool) (bool, error) {
	hint := "y/N"
	if def {
		hint = "Y/n"
	}
	for {
		fmt.Fprintf(p.out, "%s (%s): ", q, hint)
		s, err := p.read()
		if err != nil {
			return false, err
		}
		switch strings.ToLower(s) {
		case "":
			return def, nil
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
		fmt.Fprintln(p.out, "  answer y or n")
	}
}
