//! The FUSE file system: one directory holding `hidraw0` and `control`.

use std::ffi::OsStr;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, IoctlFlags,
    LockOwner, OpenFlags, PollEvents, PollFlags, PollNotifier, ReplyAttr, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyIoctl, ReplyOpen, ReplyPoll, ReplyWrite, Request,
    TimeOrNow, WriteFlags,
};

use crate::authenticator::Input;
use crate::control::{parse_commands, Command, Controls};
use crate::hidraw;
use crate::hub::{Hub, ReadOutcome, Report, REPORT_LEN};
use crate::stats::Stats;

pub(crate) const DEVICE_NAME: &str = "hidraw0";
pub(crate) const CONTROL_NAME: &str = "control";

const ROOT: INodeNo = INodeNo::ROOT;
const DEVICE: INodeNo = INodeNo(2);
const CONTROL: INodeNo = INodeNo(3);

/// Attributes rarely change; the kernel may cache them briefly.
const TTL: Duration = Duration::from_secs(1);

/// `O_NONBLOCK` on Linux; fuser passes open flags as a raw int.
const O_NONBLOCK: i32 = 0o4000;

pub(crate) struct KeyFs {
    pub(crate) hub: Arc<Hub>,
    pub(crate) controls: Arc<Controls>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) to_authenticator: Sender<Input>,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) created: SystemTime,
}

impl KeyFs {
    fn attr(&self, ino: INodeNo) -> Option<FileAttr> {
        let (kind, perm, nlink) = match ino {
            ROOT => (FileType::Directory, 0o755, 2),
            // Any local user may talk to the key, as with a udev rule for a real one.
            DEVICE => (FileType::RegularFile, 0o666, 1),
            // Only the owner scripts the "user".
            CONTROL => (FileType::RegularFile, 0o644, 1),
            _ => return None,
        };
        Some(FileAttr {
            ino,
            size: 0,
            blocks: 0,
            atime: self.created,
            mtime: self.created,
            ctime: self.created,
            crtime: self.created,
            kind,
            perm,
            nlink,
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }

    fn control_text(&self) -> String {
        let mut text = self.controls.get().render();
        text.push_str(&self.stats.render());
        text
    }

    fn write_report(&self, handle: u64, data: &[u8]) -> Result<(), Errno> {
        // hidraw writes start with the report number, 0 for a device without
        // numbered reports like a FIDO key; the rest is the 64-byte packet
        // (shorter writes are zero-padded, as the USB stack does).
        let Some((&0, packet)) = data.split_first() else {
            return Err(Errno::EINVAL);
        };
        if packet.len() > REPORT_LEN {
            return Err(Errno::EINVAL);
        }
        self.hub.check_writable(handle)?;
        let mut report: Report = [0; REPORT_LEN];
        report[..packet.len()].copy_from_slice(packet);
        self.to_authenticator
            .send(Input::Packet(report))
            // The authenticator thread is gone: the key is shutting down.
            .map_err(|_| Errno::EIO)
    }
}

impl Filesystem for KeyFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let ino = match (parent, name.to_str()) {
            (ROOT, Some(DEVICE_NAME)) => DEVICE,
            (ROOT, Some(CONTROL_NAME)) => CONTROL,
            _ => return reply.error(Errno::ENOENT),
        };
        match self.attr(ino) {
            Some(attr) => reply.entry(&TTL, &attr, Generation(0)),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.attr(ino) {
            Some(attr) => reply.attr(&TTL, &attr),
            None => reply.error(Errno::ENOENT),
        }
    }

    /// Accepted and ignored: `echo ... > control` truncates before writing.
    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        _size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        match self.attr(ino) {
            Some(attr) => reply.attr(&TTL, &attr),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        if ino != ROOT {
            return reply.error(Errno::ENOTDIR);
        }
        let entries = [
            (ROOT, FileType::Directory, "."),
            (ROOT, FileType::Directory, ".."),
            (DEVICE, FileType::RegularFile, DEVICE_NAME),
            (CONTROL, FileType::RegularFile, CONTROL_NAME),
        ];
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        for (index, (ino, kind, name)) in entries.iter().enumerate().skip(start) {
            // The offset given with an entry is where the next readdir resumes.
            if reply.add(*ino, index as u64 + 1, *kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match ino {
            DEVICE => match self.hub.open() {
                // Direct I/O: every read/write syscall reaches us as one request, so
                // one syscall is one HID report, as with hidraw.
                Some(handle) => reply.opened(
                    FileHandle(handle),
                    FopenFlags::FOPEN_DIRECT_IO | FopenFlags::FOPEN_NONSEEKABLE,
                ),
                None => reply.error(Errno::ENODEV),
            },
            // Direct I/O so `cat` always sees the current settings.
            CONTROL => reply.opened(FileHandle(0), FopenFlags::FOPEN_DIRECT_IO),
            ROOT => reply.error(Errno::EISDIR),
            _ => reply.error(Errno::ENOENT),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        match ino {
            DEVICE => match self.hub.read(fh.0, size, flags.0 & O_NONBLOCK != 0, reply) {
                ReadOutcome::Handled(outbox) => outbox.send(),
                ReadOutcome::Fail(reply, errno) => reply.error(errno),
            },
            CONTROL => {
                let text = self.control_text();
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(text.len());
                let end = start.saturating_add(size).min(text.len());
                reply.data(&text.as_bytes()[start..end]);
            }
            _ => reply.error(Errno::EISDIR),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let result = match ino {
            DEVICE => self.write_report(fh.0, data),
            CONTROL => match std::str::from_utf8(data)
                .map_err(|e| e.to_string())
                .and_then(parse_commands)
            {
                Ok(commands) => {
                    self.controls.apply(&commands);
                    if commands.contains(&Command::Replug) {
                        crate::replug(&self.hub, &self.to_authenticator);
                    }
                    Ok(())
                }
                // The shell shows "Invalid argument"; the syntax is in --help and
                // in the first lines of the file.
                Err(_) => Err(Errno::EINVAL),
            },
            _ => Err(Errno::EISDIR),
        };
        match result {
            Ok(()) => reply.written(u32::try_from(data.len()).unwrap_or(u32::MAX)),
            Err(errno) => reply.error(errno),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        if ino == DEVICE {
            self.hub.release(fh.0).send();
        }
        reply.ok();
    }

    fn ioctl(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _flags: IoctlFlags,
        cmd: u32,
        _in_data: &[u8],
        out_size: u32,
        reply: ReplyIoctl,
    ) {
        let out_size = usize::try_from(out_size).unwrap_or(usize::MAX);
        match (ino, hidraw::answer(cmd, out_size)) {
            (DEVICE, Some(data)) => reply.ioctl(0, &data),
            _ => reply.error(Errno::ENOTTY),
        }
    }

    fn poll(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        notifier: PollNotifier,
        _events: PollEvents,
        flags: PollFlags,
        reply: ReplyPoll,
    ) {
        if ino != DEVICE {
            return reply.poll(PollEvents::POLLIN | PollEvents::POLLOUT);
        }
        let notifier = flags
            .contains(PollFlags::FUSE_POLL_SCHEDULE_NOTIFY)
            .then_some(notifier);
        reply.poll(self.hub.poll(fh.0, notifier));
    }
}
