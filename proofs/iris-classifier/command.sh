# Run from inside proofs/iris-classifier (with exactrelu on PATH): bash command.sh
# net.json is a verbatim copy of exactrelu/data/demo_classifier.json (the network of exactrelu demo)
exactrelu shallow net.json --box=0:7,0:3 -o shallow.json
exactrelu check shallow.cert.json --model net.json
exactrelu report shallow.cert.json --model net.json -o proof.md
