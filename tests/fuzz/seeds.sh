#!/bin/sh
# seeds.sh SRCDIR OUTDIR GASP -- seed corpora of the fuzz harnesses
# (tests/fuzz/fuzz_*.c), one folder per harness under OUTDIR, made fresh
# from small slices of data/ and tiny inputs of every format, plus the
# binary files (snapshots, partition files, models) that the built gasp
# command GASP writes from them.  Each seed starts with the selector
# bytes its harness reads (see the harness's head comment).
set -eu
src=$1 out=$2 gasp=$3
rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gasp-seeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# bytes from hex pairs (POSIX printf has no \x)
hex() { for b in "$@"; do printf "\\$(printf %03o "0x$b")"; done; }
zeros32() { hex 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00; }
# seed DIR NAME SELECTOR-HEX... < body
seed() {
  d=$out/$1 n=$2
  shift 2
  mkdir -p "$d"
  { hex "$@"; cat; } > "$d/$n"
}

# ---- sample inputs, one per format ---------------------------------------
head -n 150 "$src/data/sample.el" > "$tmp/el"
printf '# comment\n%% other\n1,2,0.5\r\n2\t3\t1.5\r\n3 1 2\n' > "$tmp/elw"
printf '1 2 2 3\n2 0\n3 1 1\n' > "$tmp/adj"
printf '%%%%MatrixMarket matrix coordinate real general\n%% c\n3 3 4\n1 2 0.5\n2 3 1\n3 1 2\n1 1 1\n' > "$tmp/mtx"
printf '%%%%MatrixMarket matrix coordinate integer symmetric\n3 3 3\n2 1 4\n3 2 5\n3 3 1\n' > "$tmp/mtxsym"
printf '%%%%MatrixMarket matrix coordinate pattern general\n2 4 3\n1 4\n2 1\n2 3\n' > "$tmp/mtxrect"
printf '3\n5\n4\n1 1 2\n1 3 1\n2 5 4\n3 2 1\n' > "$tmp/uci"
printf '1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n' > "$tmp/ratings"
printf 'userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n2,31,4,1260759185\n' > "$tmp/ratingscsv"
printf '2 0:1 2:3\n0\n1 4:2\n' > "$tmp/ldac"
printf '# doc word count\n1 1 2\n1 3 1\n2 5 4\n3 2 1\n' > "$tmp/triples"
printf 'alpha\nbeta\ngamma\ndelta\nepsilon\n' > "$tmp/vocab"
gzip -9 -c "$tmp/el" > "$tmp/el.gz"
gzip -1 -c "$tmp/uci" > "$tmp/uci.gz"

# ---- fuzz_load: byte 0 format, byte 1 mode, byte 2 name ------------------
# formats: 0 auto 1 edgelist 2 adj 3 mtx 4 uci 5 ratings 6 ldac 7 triples
# 8 corpus
seed fuzz_load el 00 00 00 < "$tmp/el"
seed fuzz_load el-w 01 20 00 < "$tmp/elw"
seed fuzz_load el-sym 01 04 00 < "$tmp/elw"
seed fuzz_load adj 02 00 00 < "$tmp/adj"
seed fuzz_load adj-name 00 00 02 < "$tmp/adj"
seed fuzz_load mtx 00 00 00 < "$tmp/mtx"
seed fuzz_load mtx-sym 03 00 01 < "$tmp/mtxsym"
seed fuzz_load mtx-rect 03 00 00 < "$tmp/mtxrect"
seed fuzz_load uci 04 00 00 < "$tmp/uci"
seed fuzz_load uci-name 00 00 03 < "$tmp/uci"
seed fuzz_load ratings 05 00 00 < "$tmp/ratings"
seed fuzz_load ratings-csv 05 10 00 < "$tmp/ratingscsv"
seed fuzz_load ldac 06 00 00 < "$tmp/ldac"
seed fuzz_load ldac-name 08 00 04 < "$tmp/ldac"
seed fuzz_load triples 07 00 00 < "$tmp/triples"
seed fuzz_load corpus-uci 08 00 00 < "$tmp/uci"
seed fuzz_load corpus-triples 08 00 00 < "$tmp/triples"
seed fuzz_load el-bip 01 08 00 < "$tmp/elw"
seed fuzz_load gz-mtx 03 41 00 < "$tmp/mtx"
seed fuzz_load gz-el 00 c1 05 < "$tmp/elw"
tail -c +3 "$tmp/el.gz" | seed fuzz_load gzraw-el 00 02 00
tail -c +3 "$tmp/uci.gz" | seed fuzz_load gzraw-uci 04 02 00

# ---- fuzz_gzip: raw gzip streams -----------------------------------------
seed fuzz_gzip el < "$tmp/el.gz"
seed fuzz_gzip uci < "$tmp/uci.gz"
gzip -c "$tmp/elw" | seed fuzz_gzip elw
{ gzip -c "$tmp/adj"; gzip -c "$tmp/elw"; } | seed fuzz_gzip two-members
printf '' | gzip -c | seed fuzz_gzip empty

# ---- fuzz_vocab: selector (corpus | mode << 2 | named << 4), vocabulary --
seed fuzz_vocab uci 00 < "$tmp/vocab"
seed fuzz_vocab ldac 01 < "$tmp/vocab"
seed fuzz_vocab triples 12 < "$tmp/vocab"
seed fuzz_vocab corpus 03 < "$tmp/vocab"
seed fuzz_vocab uci-gz 04 < "$tmp/vocab"
printf 'a\r\nb\r\nc\r\nd\r\ne\r\nf\r\n' | seed fuzz_vocab crlf 01
gzip -c "$tmp/vocab" | tail -c +3 | seed fuzz_vocab gzraw 08

# ---- binary files from the gasp command -----------------------------------
q=--quiet
"$gasp" convert $q -i "$tmp/el" -o "$tmp/el.gasp"
"$gasp" convert $q -i "$tmp/elw" -o "$tmp/elw.gasp"
"$gasp" convert $q -i "$tmp/mtxrect" -o "$tmp/rect.gasp"
"$gasp" convert $q -i "$tmp/uci" --format uci --vocab "$tmp/vocab" \
  -o "$tmp/named.gasp"
# a reordered one (by_gid section)
"$gasp" convert $q -i "$tmp/elw" --reorder dbg -o "$tmp/elw-dbg.gasp"
# fuzz_snapshot: bit 0 fix the size, bit 1 the checksum, bit 2 auto
for f in el elw rect named elw-dbg; do
  seed fuzz_snapshot "$f" 00 < "$tmp/$f.gasp"
  seed fuzz_snapshot "$f-fix" 03 < "$tmp/$f.gasp"
done
seed fuzz_snapshot el-auto 07 < "$tmp/el.gasp"

"$gasp" partition $q -i "$tmp/el" --parts 2 --method hash -o "$tmp/p2" >/dev/null
"$gasp" partition $q -i "$tmp/elw" --parts 1 -o "$tmp/p1" >/dev/null
"$gasp" partition $q -i "$tmp/elw" --parts 3 -o "$tmp/p3" >/dev/null
# fuzz_part_file: bit 0 fix the checksum, bit 1 rank 0 of 1
for f in p2.0 p2.1 p1.0 p3.2; do
  seed fuzz_part_file "$f" 00 < "$tmp/$f.gpart"
  seed fuzz_part_file "$f-fix" 01 < "$tmp/$f.gpart"
done

"$gasp" lda $q -i "$tmp/uci" --format uci -k 3 --iters 4 -o "$tmp/lda" >/dev/null
"$gasp" lda $q -i "$tmp/triples" --format triples -k 2 --iters 4 --counts \
  -o "$tmp/ldac" >/dev/null
mkdir -p "$out/fuzz_lda_model"
cp "$tmp/lda.word-topic.tsv" "$out/fuzz_lda_model/phi"
cp "$tmp/ldac.word-topic.tsv" "$out/fuzz_lda_model/counts"

"$gasp" als $q -i "$tmp/ratings" -k 2 --max-iter 2 -o "$tmp/als" >/dev/null
"$gasp" sgd $q -i "$tmp/ratingscsv" -k 3 --epochs 2 --biased -o "$tmp/sgd" >/dev/null
# fuzz_mf_model: the three files separated by form feeds
mkdir -p "$out/fuzz_mf_model"
for m in als sgd; do
  { cat "$tmp/$m.model"; printf '\f'; cat "$tmp/$m.users.tsv"; printf '\f'
    cat "$tmp/$m.items.tsv"; } > "$out/fuzz_mf_model/$m"
done

# ---- fuzz_wire: selector (state: 0 ready, 1 auth sent, 2 hello sent,
# 3 wait hello), then frames of a 4-byte length and a msgpack array ----------
# ready: DATA [6,0,1,0,1,bin"abc"], POST [8,0,1,bin"hi"], BYE [7,1]
hex 00 00 00 00 0b 96 06 00 01 00 01 c4 03 61 62 63 \
  00 00 00 08 94 08 00 01 c4 02 68 69 00 00 00 03 92 07 01 > "$tmp/w0"
# ready: a POST in two chunks, a DATA with a uint8 seq and bin16, ABORT
hex 00 00 00 00 07 94 08 00 00 c4 01 61 00 00 00 07 94 08 01 01 c4 01 62 \
  00 00 00 0d 96 06 cc 07 01 00 00 c5 00 02 78 79 \
  00 00 00 08 93 09 01 a4 62 6f 6f 6d > "$tmp/w1"
# ready: TABLE [5,[["h",1]]] and ADDR [4,1,"127.0.0.1",5000]
hex 00 00 00 00 07 92 05 91 92 a1 68 01 \
  00 00 00 10 94 04 01 a9 31 32 37 2e 30 2e 30 2e 31 cd 13 88 > "$tmp/w2"
# auth sent: AUTH_OK [3,1,bin32]; then an ABORT refusal
{ hex 01 00 00 00 25 93 03 01 c4 20; zeros32; } > "$tmp/w3"
hex 01 00 00 00 06 93 09 01 a2 6e 6f > "$tmp/w4"
# hello sent: AUTH [2,1,bin32,bin32]
{ hex 02 00 00 00 47 94 02 01 c4 20; zeros32; hex c4 20; zeros32; } > "$tmp/w5"
# wait hello: HELLO [1,1,1,bin32]
{ hex 03 00 00 00 26 94 01 01 01 c4 20; zeros32; } > "$tmp/w6"
mkdir -p "$out/fuzz_wire"
for i in 0 1 2 3 4 5 6; do cp "$tmp/w$i" "$out/fuzz_wire/frames$i"; done
