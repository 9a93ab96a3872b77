//! The pipeline cache on disk: a device writes what it compiled when it goes, the next one on
//! the same adapter loads it, and a corrupt or foreign file is ignored (and rewritten), never
//! handed to the driver.

use wgtrain_tensor::{Device, DeviceOptions, PipelineCacheDir, PipelineCacheStatus, Tensor};

fn open(dir: &std::path::Path) -> Device {
    let options = DeviceOptions { pipeline_cache: PipelineCacheDir::At(dir.to_path_buf()), ..Default::default() };
    Device::with_options(options).expect("an adapter")
}

/// Compiles a few pipelines and checks their result.
fn work(dev: &Device) {
    let x = Tensor::from_slice(dev, &[1.0f32, -2.0, 3.0], &[3]).unwrap();
    let y = x.relu().unwrap().add_scalar(1.0).unwrap().sum_all().unwrap();
    assert_eq!(y.item::<f32>().unwrap(), 7.0);
}

fn only_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn a_second_device_starts_warm_and_a_damaged_file_is_ignored_and_rewritten() {
    let dir = std::env::temp_dir().join(format!("wgtrain-pipeline-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = open(&dir);
    if let PipelineCacheStatus::Off(why) = first.pipeline_cache_status() {
        eprintln!("no pipeline cache on this adapter ({why}): nothing to test");
        return;
    }
    assert_eq!(first.pipeline_cache_status(), &PipelineCacheStatus::Cold);
    work(&first);
    drop(first);
    let file = only_file(&dir);
    let second = open(&dir);
    assert!(matches!(second.pipeline_cache_status(), PipelineCacheStatus::Warm(n) if *n > 0));
    work(&second);
    drop(second);
    // One changed byte, then random bytes: ignored with the reason, and the next save repairs it.
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    let third = open(&dir);
    assert!(matches!(third.pipeline_cache_status(), PipelineCacheStatus::Ignored(why) if why.contains("checksum")));
    work(&third);
    drop(third);
    assert!(matches!(open(&dir).pipeline_cache_status(), PipelineCacheStatus::Warm(_)));
    std::fs::write(&file, b"a file that some other program wrote here").unwrap();
    let foreign = open(&dir);
    assert!(
        matches!(foreign.pipeline_cache_status(), PipelineCacheStatus::Ignored(why) if why.contains("not a wgtrain"))
    );
    work(&foreign);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_cache_can_be_turned_off() {
    let dev =
        Device::with_options(DeviceOptions { pipeline_cache: PipelineCacheDir::Off, ..Default::default() }).unwrap();
    assert!(matches!(dev.pipeline_cache_status(), PipelineCacheStatus::Off(_)));
    work(&dev);
}
