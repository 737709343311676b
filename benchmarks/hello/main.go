// The seed article's bare net/http hello world (Lukas Herman, "Minimal Go Docker
// Container", /work/shared/seeds/000), answering the template's greeting: the
// baseline of the requests/s and p99 measurement (bench.py --throughput). The
// body is the generated service's for the default slug, so both send the same bytes,
// and the port is $PORT, so the benchmark can pick a free one (the article's is 8080).
package main

import (
	"log"
	"net/http"
	"os"
)

func handler(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("Hello from hello-service\n"))
}

func main() {
	http.HandleFunc("/", handler)
	log.Fatal(http.ListenAndServe(":"+os.Getenv("PORT"), nil))
}
