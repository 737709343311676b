package platform

import (
	"bytes"
	"context"
	"io"
	"testing"
)

func TestVersionIsAnsweredBeforeTheToolRuns(t *testing.T) {
	ran := false
	tool := func(context.Context, []string, io.Writer, io.Writer) int { ran = true; return 3 }
	for args, wantRun := range map[string]bool{"-version": false, "--version": false, "-name x -version": false,
		"-name x": true, "-- -version": true} {
		ran = false
		var stdout bytes.Buffer
		code := runCLI(splitArgs(args), &stdout, io.Discard, tool)
		if ran != wantRun {
			t.Errorf("%q: the tool ran = %v, want %v", args, ran, wantRun)
		}
		if !wantRun && (code != ExitOK || stdout.String() != Name+" dev (unknown)\n") {
			t.Errorf("%q: exit %d, printed %q; want 0 and the version line", args, code, stdout.String())
		}
		if wantRun && code != 3 {
			t.Errorf("%q: exit %d, want the tool's 3", args, code)
		}
	}
}

func splitArgs(s string) []string {
	var args []string
	for _, f := range bytes.Fields([]byte(s)) {
		args = append(args, string(f))
	}
	return args
}

func TestSignalContextIsLiveUntilStopped(t *testing.T) {
	ctx, stop := SignalContext()
	if ctx.Err() != nil {
		t.Fatal("cancelled before any signal")
	}
	stop()
	<-ctx.Done()
}
