//! Specifies `kettle::fs` when the process runs out of file descriptors
//! (EMFILE): a clear error naming the path, nothing cached, and the next
//! open works once descriptors are free. Its own test binary: it lowers the
//! process's descriptor limit.

use kettle::fs::File;

mod fs_common;
use fs_common::Scratch;

fn nofile() -> libc::rlimit {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: a valid pointer to an rlimit.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
    limit
}

fn set_nofile(limit: libc::rlimit) {
    // SAFETY: a valid pointer to an rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

#[test]
fn running_out_of_descriptors_is_an_error_naming_the_path_and_not_a_lasting_one() {
    let dir = Scratch::new("emfile");
    let path = dir.join("f");
    std::fs::write(&path, "x").unwrap();
    let saved = nofile();
    kettle::run(async {
        // The runtime and a pool thread exist first: they need descriptors too.
        File::open(&path).await.unwrap();
        let open_now = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        set_nofile(libc::rlimit { rlim_cur: open_now + 8, rlim_max: saved.rlim_max });
        let mut files = Vec::new();
        let error = loop {
            match File::open(&path).await {
                Ok(file) => files.push(file),
                Err(error) => break error,
            }
            assert!(files.len() < 100, "the lowered limit was never reached");
        };
        assert_eq!(error.raw_os_error(), None, "wrapped, as every path error");
        assert!(error.to_string().contains("Too many open files"), "{error}");
        assert!(error.to_string().contains(&path.display().to_string()), "{error}");
        let read = kettle::fs::read(&path).await.unwrap_err();
        assert!(read.to_string().starts_with("read `"), "{read}");
        files.clear();
        // Descriptors free again: the same call works, nothing was cached.
        let mut file = File::open(&path).await.expect("works again once descriptors are free");
        let mut text = String::new();
        file.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "x");
    });
    set_nofile(saved);
}
