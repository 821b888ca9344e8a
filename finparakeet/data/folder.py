"""Import a folder of audio files with same-stem ``.txt`` transcripts (``a/b.wav`` + ``a/b.txt``)."""

from __future__ import annotations

from pathlib import Path

from lhotse import CutSet, MonoCut, Recording, SupervisionSegment

from finparakeet.data.rejects import AUDIO_UNREADABLE, NO_TRANSCRIPT, NOT_UTF8, Reject

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".sph")


def import_folder(folder: str | Path, audio_suffixes: tuple[str, ...] = AUDIO_SUFFIXES,
                  text_suffix: str = ".txt", recursive: bool = True) -> tuple[CutSet, list[Reject]]:
    """One whole-file cut per audio file that has a transcript; the others come back as rejects.

    Cut ids are the audio paths relative to ``folder`` without suffix (``"a/b"``), so files in different sub-folders
    never clash. Transcripts are read as UTF-8 with surrounding whitespace stripped; empty ones are kept here and
    judged by validation.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    pattern = "**/*" if recursive else "*"
    audio_files = sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in audio_suffixes)
    cuts, rejects = [], []
    for audio in audio_files:
        cid = audio.relative_to(folder).with_suffix("").as_posix()
        transcript = audio.with_suffix(text_suffix)
        if not transcript.is_file():
            rejects.append(Reject(None, NO_TRANSCRIPT, f"no transcript {transcript.name} next to it", cid, str(audio)))
            continue
        try:
            text = transcript.read_bytes().decode("utf-8").strip()
        except UnicodeDecodeError as e:
            rejects.append(Reject(None, NOT_UTF8, f"{transcript.name} is not UTF-8 ({e.reason} at byte {e.start})",
                                  cid, str(audio)))
            continue
        try:
            rec = Recording.from_file(audio)
        except Exception as e:
            rejects.append(Reject(None, AUDIO_UNREADABLE, f"cannot read the audio header: {e}", cid, str(audio)))
            continue
        sup = SupervisionSegment(id=cid, recording_id=rec.id, start=0.0, duration=rec.duration, channel=0, text=text,
                                 language="en")
        cuts.append(MonoCut(id=cid, start=0.0, duration=rec.duration, channel=0, recording=rec, supervisions=[sup]))
    return CutSet.from_cuts(cuts), rejects
