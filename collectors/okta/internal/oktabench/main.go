// Command oktabench measures the Okta collector's peak memory apart from
// the simulator's: `oktabench serve` runs a generated org in one process,
// `oktabench collect` reads it in another, so that /usr/bin/time -v of the
// second is the collector's own peak RSS (issue 20's figure is that of
// `idgraph collect --source okta` at 100,000 users).
//
//	go build -o /tmp/oktabench ./collectors/okta/internal/oktabench
//	/tmp/oktabench serve -users 100000 -url /tmp/okta.url &
//	/usr/bin/time -v /tmp/oktabench collect -url "$(cat /tmp/okta.url)"
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/okta"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
)

const token = "oktabench-token"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: oktabench serve|collect [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	users := fs.Int("users", 100_000, "serve: users in the org (a fifth assigned)")
	urlFile := fs.String("url", "", "serve: file to write the simulator's URL to; collect: the URL")
	encode := fs.Bool("encode", false, "collect: encode the accounts as JSON (to a sink), as idgraph collect does")
	stream := fs.Bool("stream", false, "collect: encode the accounts one by one instead (to a sink), as a streaming idgraph collect would")
	heap := fs.String("heapprofile", "", "collect: write a heap profile after the read")
	cpu := fs.String("cpuprofile", "", "collect: write a CPU profile of the read")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "serve":
		serve(*users, *urlFile)
	case "collect":
		if *cpu != "" {
			f, err := os.Create(*cpu)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		if err := collect(*urlFile, *encode, *stream, *heap); err != nil {
			fmt.Fprintln(os.Stderr, err)
			pprof.StopCPUProfile()
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: oktabench serve|collect [flags]")
		os.Exit(2)
	}
}

func serve(n int, urlFile string) {
	sc := oktatest.Generate(n, n/5, 1)
	sc.Token = token
	srv := oktatest.NewServer(sc)
	defer srv.Close()
	if urlFile != "" {
		if err := os.WriteFile(urlFile, []byte(srv.URL), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fmt.Println(srv.URL)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	<-stop
}

func collect(url string, encode, stream bool, heap string) error {
	env := collectors.Env{File: "oktabench", Getenv: func(string) string { return token }}
	c, err := okta.NewCollector(okta.Config{OrgURL: url, TokenEnv: "T", AppID: "0oa1stonly00000000"}, env)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		return err
	}
	if heap != "" {
		runtime.GC()
		f, err := os.Create(heap)
		if err != nil {
			return err
		}
		pprof.WriteHeapProfile(f)
		f.Close()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("live heap after the read: %d MiB\n", ms.HeapAlloc>>20)
	}
	if stream {
		w := bufio.NewWriter(io.Discard)
		w.WriteString("[\n")
		for i := range res.Accounts {
			b, err := json.MarshalIndent(&res.Accounts[i], "  ", "  ")
			if err != nil {
				return err
			}
			if i > 0 {
				w.WriteString(",\n")
			}
			w.WriteString("  ")
			w.Write(b)
		}
		w.WriteString("\n]\n")
		w.Flush()
	}
	if encode {
		// As `idgraph collect` does (encoding/json builds the whole text,
		// then its indented copy, before writing it), to a sink.
		enc := json.NewEncoder(io.Discard)
		enc.SetIndent("", "  ")
		enc.Encode(res.Accounts)
	}
	fmt.Printf("full: %d accounts, %d requests, %s\n", len(res.Accounts), res.Completeness.Requests, time.Since(start).Round(time.Millisecond))
	return nil
}
