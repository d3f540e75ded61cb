package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// EngineBuild is one build an engine keeps in its own history (BuildKit's
// history API): every build it ran, whoever asked for it — stagescope,
// buildctl, docker buildx.
type EngineBuild struct {
	// Ref is the build's reference, BuildKit's id for it.
	Ref      string
	Frontend string
	// Attrs are the options the frontend was given (target, filename,
	// build-arg:NAME, context:NAME…), as the engine keeps them.
	Attrs map[string]string
	// Started is when the build began; Completed is zero while it runs.
	Started, Completed time.Time
	// Error is the build's error, one line, empty when it succeeded.
	Error string
	// StepsCached, StepsCompleted and StepsTotal count every vertex of
	// the build, as BuildKit counts them.
	StepsCached, StepsCompleted, StepsTotal int
	Warnings                                int
	Pinned                                  bool
	// HasProgress says the engine kept the build's status stream, from
	// which BuildStatus replays its steps.
	HasProgress bool
}

// Running reports whether the engine was still running the build when
// asked.
func (b EngineBuild) Running() bool { return b.Completed.IsZero() }

// Canceled reports whether the build ended because it was canceled.
func (b EngineBuild) Canceled() bool {
	return b.Error != "" && strings.Contains(b.Error, context.Canceled.Error())
}

// NoHistoryError says the engine keeps no history of its builds: BuildKit
// added its history API in v0.11, which Docker ships from 23.0.
type NoHistoryError struct {
	Kind    Kind
	Addr    string
	Version string
}

func (e *NoHistoryError) Error() string {
	what := "the BuildKit"
	if e.Kind == KindDocker {
		what = "Docker"
	}
	if e.Version != "" {
		what += " " + e.Version
	}
	since := "BuildKit v0.11"
	if e.Kind == KindDocker {
		since = "Docker 23.0"
	}
	return fmt.Sprintf("%s at %s keeps no history of its builds (the history API came with %s); stagescope's own records are in `stagescope history` without --engine", what, e.Addr, since)
}

// UnknownBuildError says the engine has no build with a reference
// starting with Ref, or more than one (Candidates).
type UnknownBuildError struct {
	Ref        string
	Addr       string
	Candidates []string
}

func (e *UnknownBuildError) Error() string {
	if len(e.Candidates) == 0 {
		return fmt.Sprintf("the engine at %s has no build %q in its history (`stagescope history --engine` lists them)", e.Addr, e.Ref)
	}
	shown := e.Candidates
	more := ""
	if len(shown) > 5 {
		more = fmt.Sprintf(" and %d more", len(shown)-5)
		shown = shown[:5]
	}
	return fmt.Sprintf("build %q is ambiguous in the history of the engine at %s: %s%s", e.Ref, e.Addr, strings.Join(shown, ", "), more)
}

// historyErr names what the history API answers when the engine has none.
func (e *Engine) historyErr(err error) error {
	if isUnimplemented(err) {
		return &NoHistoryError{Kind: e.Kind, Addr: e.Addr, Version: e.Version}
	}
	return err
}

// Builds lists the builds the engine keeps in its history, those running
// first, then newest first. An engine without the history API gives a
// *NoHistoryError.
func (e *Engine) Builds(ctx context.Context) ([]EngineBuild, error) {
	return e.listBuilds(ctx, "")
}

func (e *Engine) listBuilds(ctx context.Context, ref string) ([]EngineBuild, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := e.bk.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{EarlyExit: true, Ref: ref})
	if err != nil {
		return nil, e.historyErr(err)
	}
	seen := map[string]int{}
	var out []EngineBuild
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ref != "" && status.Code(err) == codes.NotFound {
				return nil, nil
			}
			return nil, e.historyErr(err)
		}
		if ev.Record == nil || ev.Record.Ref == "" {
			continue
		}
		if ev.Type == controlapi.BuildHistoryEventType_DELETED {
			continue
		}
		b := engineBuild(ev.Record)
		if i, ok := seen[b.Ref]; ok {
			out[i] = b // a build that started and completed while listed
			continue
		}
		seen[b.Ref] = len(out)
		out = append(out, b)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := out[i].Running(), out[j].Running(); ri != rj {
			return ri
		}
		return out[i].Started.After(out[j].Started)
	})
	return out, nil
}

func engineBuild(r *controlapi.BuildHistoryRecord) EngineBuild {
	b := EngineBuild{
		Ref: r.Ref, Frontend: r.Frontend, Attrs: r.FrontendAttrs,
		StepsCached: int(r.NumCachedSteps), StepsCompleted: int(r.NumCompletedSteps), StepsTotal: int(r.NumTotalSteps),
		Warnings: int(r.NumWarnings), Pinned: r.Pinned, HasProgress: r.Logs != nil,
	}
	if r.CreatedAt != nil {
		b.Started = r.CreatedAt.AsTime()
	}
	if r.CompletedAt != nil {
		b.Completed = r.CompletedAt.AsTime()
	}
	if r.Error != nil {
		b.Error = firstLine(r.Error.Message)
		if b.Error == "" {
			b.Error = codes.Code(r.Error.Code).String()
		}
	}
	return b
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// FindBuild finds one build of the engine's history by its reference or any
// prefix of it that only it has (*UnknownBuildError otherwise).
func (e *Engine) FindBuild(ctx context.Context, ref string) (EngineBuild, error) {
	if ref == "" {
		return EngineBuild{}, &UnknownBuildError{Ref: ref, Addr: e.Addr}
	}
	exact, err := e.listBuilds(ctx, ref)
	if err != nil {
		return EngineBuild{}, err
	}
	for _, b := range exact {
		if b.Ref == ref {
			return b, nil
		}
	}
	all, err := e.listBuilds(ctx, "")
	if err != nil {
		return EngineBuild{}, err
	}
	var found []EngineBuild
	for _, b := range all {
		if strings.HasPrefix(b.Ref, ref) {
			found = append(found, b)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	ue := &UnknownBuildError{Ref: ref, Addr: e.Addr}
	for _, b := range found {
		ue.Candidates = append(ue.Candidates, b.Ref)
	}
	sort.Strings(ue.Candidates)
	return EngineBuild{}, ue
}

// BuildStatus sends the status stream of a build of the engine's history
// on ch, as the engine kept it (a build still running: what it sent so
// far, then the rest as it runs, until ctx ends), and closes ch.
func (e *Engine) BuildStatus(ctx context.Context, ref string, ch chan<- *client.SolveStatus) error {
	defer close(ch)
	stream, err := e.bk.ControlClient().Status(ctx, &controlapi.StatusRequest{Ref: ref})
	if err != nil {
		return e.historyErr(err)
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return e.historyErr(err)
		}
		select {
		case ch <- client.NewSolveStatus(resp):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
