#!/bin/sh
# Build proofs/xor/proof.pdf from proofs/xor/proof.tex (written by `bash command.sh` in proofs/xor).
# Run from the repository root; needs pdflatex (Debian/Ubuntu: apt-get install texlive-latex-base).
#
# Reproducible: SOURCE_DATE_EPOCH=0 with FORCE_SOURCE_DATE=1 fixes every date pdflatex writes, and
# \pdftrailerid{} drops the random file identifier, so the same TeX Live gives the same bytes.  The
# PDF's Subject field records the SHA-256 of the proof.tex it was built from (uncompressed objects,
# so tests/test_proofs.py can read it without a PDF library and check that the PDF is current).
set -eu
dir=proofs/xor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hash=$(sha256sum "$dir/proof.tex" | cut -d' ' -f1)
cp "$dir/proof.tex" "$dir/proof.regions.png" "$tmp/"
cd "$tmp"
for pass in 1 2; do
    SOURCE_DATE_EPOCH=0 FORCE_SOURCE_DATE=1 pdflatex -interaction=nonstopmode -halt-on-error -jobname=proof \
        "\\pdfobjcompresslevel=0\\pdftrailerid{}\\pdfinfo{/Subject (exactrelu proof.tex sha256 $hash)}\\input{proof.tex}" \
        > pdflatex.out || { cat proof.log >&2; exit 1; }
done
cd - > /dev/null
cp "$tmp/proof.pdf" "$dir/proof.pdf"
echo "wrote $dir/proof.pdf (from proof.tex, sha256 $hash)"
