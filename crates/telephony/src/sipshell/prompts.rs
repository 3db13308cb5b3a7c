//! Prompts by name: WAV files from the prompt directory, or speech made by espeak-ng
//! (`tts:<language>:<text>`) and cached on disk, so a greeting is synthesized once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use media::prompt::Prompt;
use media::wav::WavLimits;

/// Longest text sent to the synthesizer.
pub const TTS_TEXT_CHARS_MAX: usize = 1_000;
/// Prompts kept decoded in memory.
const LOADED_MAX: usize = 256;
/// How long espeak-ng may take for one prompt.
const TTS_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum PromptLoadError {
    #[error("prompt name {0:?} is not a plain file name")]
    BadName(String),
    #[error("no prompt directory is configured")]
    NoDirectory,
    #[error("tts prompt must be tts:<language>:<text> with a short text")]
    BadTts,
    #[error("espeak-ng failed: {0}")]
    Synthesis(String),
    #[error("reading the prompt: {0}")]
    Io(#[from] std::io::Error),
    #[error("decoding the prompt: {0}")]
    Decode(#[from] media::prompt::PromptError),
}

pub struct PromptLibrary {
    dir: Option<PathBuf>,
    cache_dir: PathBuf,
    loaded: HashMap<String, Prompt>,
}

impl PromptLibrary {
    pub fn new(dir: Option<PathBuf>, cache_dir: PathBuf) -> PromptLibrary {
        PromptLibrary { dir, cache_dir, loaded: HashMap::new() }
    }

    pub async fn get(&mut self, name: &str) -> Result<Prompt, PromptLoadError> {
        if let Some(prompt) = self.loaded.get(name) {
            return Ok(prompt.clone());
        }
        let path = match name.strip_prefix("tts:") {
            Some(spec) => self.synthesize(spec).await?,
            None => self.file(name)?,
        };
        let bytes = tokio::fs::read(&path).await?;
        let prompt = Prompt::from_wav(&bytes, &WavLimits::PROMPT)?;
        if self.loaded.len() >= LOADED_MAX {
            self.loaded.clear();
        }
        self.loaded.insert(name.to_string(), prompt.clone());
        Ok(prompt)
    }

    fn file(&self, name: &str) -> Result<PathBuf, PromptLoadError> {
        let plain = !name.is_empty()
            && !name.starts_with('.')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !plain {
            return Err(PromptLoadError::BadName(name.to_string()));
        }
        Ok(self.dir.as_ref().ok_or(PromptLoadError::NoDirectory)?.join(name))
    }

    async fn synthesize(&self, spec: &str) -> Result<PathBuf, PromptLoadError> {
        let (language, text) = spec.split_once(':').ok_or(PromptLoadError::BadTts)?;
        let language_ok = (2..=12).contains(&language.len())
            && language.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !language_ok || text.trim().is_empty() || text.chars().count() > TTS_TEXT_CHARS_MAX {
            return Err(PromptLoadError::BadTts);
        }
        let path = self.cache_dir.join(format!("tts-{:016x}.wav", fnv1a(spec.as_bytes())));
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(path);
        }
        tokio::fs::create_dir_all(&self.cache_dir).await?;
        let partial = path.with_extension("partial.wav");
        let run = tokio::process::Command::new("espeak-ng")
            .args(["-v", language, "-w"])
            .arg(&partial)
            .arg("--")
            .arg(text)
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(TTS_TIMEOUT, run)
            .await
            .map_err(|_| PromptLoadError::Synthesis("timed out".into()))??;
        if !output.status.success() {
            let message = String::from_utf8_lossy(&output.stderr).trim().to_string();
            return Err(PromptLoadError::Synthesis(message));
        }
        // Renamed into place so a half-written file is never taken from the cache.
        tokio::fs::rename(&partial, &path).await?;
        Ok(path)
    }
}

/// FNV-1a: a stable hash for cache file names (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_are_checked_and_tts_is_cached_on_disk() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut library = PromptLibrary::new(None, dir.path().join("cache"));
        assert!(matches!(library.get("../etc/passwd").await, Err(PromptLoadError::BadName(_))));
        assert!(matches!(library.get("hello.wav").await, Err(PromptLoadError::NoDirectory)));
        assert!(matches!(library.get("tts:en").await, Err(PromptLoadError::BadTts)));
        assert!(matches!(library.get("tts:e n:hi").await, Err(PromptLoadError::BadTts)));
        let prompt = library.get("tts:en:Thank you for calling.").await.expect("espeak-ng runs");
        assert!(prompt.duration_ms() > 500, "speech, not silence: {} ms", prompt.duration_ms());
        let cached = std::fs::read_dir(dir.path().join("cache")).expect("cache dir").count();
        assert_eq!(cached, 1, "one file, no partial left behind");
        let rms = media::energy::rms(prompt.samples());
        assert!(rms > 300.0, "audible: rms {rms}");
    }
}
