//! The ioctls of Linux's hidraw driver that clients ask a hidraw file.
//!
//! hidapi's Linux backend opens a path and asks `HIDIOCGRDESCSIZE` to make sure
//! it is hidraw; nothing else on open. The others are answered so that tools
//! that inspect the device see a FIDO (usage page 0xF1D0) HID interface.

/// `_IOR('H', 0x01, int)`: size of the report descriptor.
const HIDIOCGRDESCSIZE: u32 = 0x8004_4801;
/// `_IOR('H', 0x02, struct hidraw_report_descriptor)`: size (4 bytes) + 4096 bytes.
const HIDIOCGRDESC: u32 = 0x9004_4802;
/// `_IOR('H', 0x03, struct hidraw_devinfo)`: bus type (u32), vendor, product (i16).
const HIDIOCGRAWINFO: u32 = 0x8008_4803;
/// `_IOC(_IOC_READ, 'H', 0x04, len)`: device name; the length is in bits 16..30.
const HIDIOCGRAWNAME_BASE: u32 = 0x8000_4804;
/// `_IOC(_IOC_READ, 'H', 0x05, len)`: physical location.
const HIDIOCGRAWPHYS_BASE: u32 = 0x8000_4805;
const IOC_SIZE_MASK: u32 = 0x3FFF << 16;

const HID_MAX_DESCRIPTOR_SIZE: usize = 4096;
const BUS_USB: u32 = 0x03;

/// OpenSK's own USB identifiers (Nordic Semiconductor's VID, OpenSK's PID).
pub(crate) const VENDOR_ID: u16 = 0x1915;
pub(crate) const PRODUCT_ID: u16 = 0x521F;
const NAME: &str = "OpenSK virtual security key (skset-virtual-key)";
const PHYS: &str = "skset-virtual-key/fuse";

/// The CTAPHID report descriptor from the CTAP specification: one application
/// collection on the FIDO usage page with 64-byte input and output reports.
pub(crate) const REPORT_DESCRIPTOR: [u8; 34] = [
    0x06, 0xD0, 0xF1, // Usage Page (FIDO Alliance)
    0x09, 0x01, // Usage (CTAPHID)
    0xA1, 0x01, // Collection (Application)
    0x09, 0x20, //   Usage (Input Report Data)
    0x15, 0x00, //   Logical Minimum (0)
    0x26, 0xFF, 0x00, //   Logical Maximum (255)
    0x75, 0x08, //   Report Size (8)
    0x95, 0x40, //   Report Count (64)
    0x81, 0x02, //   Input (Data, Variable, Absolute)
    0x09, 0x21, //   Usage (Output Report Data)
    0x15, 0x00, //   Logical Minimum (0)
    0x26, 0xFF, 0x00, //   Logical Maximum (255)
    0x75, 0x08, //   Report Size (8)
    0x95, 0x40, //   Report Count (64)
    0x91, 0x02, //   Output (Data, Variable, Absolute)
    0xC0, // End Collection
];

/// The answer to an ioctl on `hidraw0`: the data the kernel copies back to the
/// caller, or `None` for "not a hidraw ioctl" (ENOTTY).
pub(crate) fn answer(cmd: u32, out_size: usize) -> Option<Vec<u8>> {
    let mut data = match cmd {
        HIDIOCGRDESCSIZE => {
            let size = i32::try_from(REPORT_DESCRIPTOR.len()).unwrap_or(i32::MAX);
            size.to_ne_bytes().to_vec()
        }
        HIDIOCGRDESC => {
            let size = u32::try_from(REPORT_DESCRIPTOR.len()).unwrap_or(u32::MAX);
            let mut data = size.to_ne_bytes().to_vec();
            data.extend_from_slice(&REPORT_DESCRIPTOR);
            data.resize(4 + HID_MAX_DESCRIPTOR_SIZE, 0);
            data
        }
        HIDIOCGRAWINFO => {
            let mut data = BUS_USB.to_ne_bytes().to_vec();
            data.extend_from_slice(&VENDOR_ID.to_ne_bytes());
            data.extend_from_slice(&PRODUCT_ID.to_ne_bytes());
            data
        }
        _ if cmd & !IOC_SIZE_MASK == HIDIOCGRAWNAME_BASE => nul_terminated(NAME),
        _ if cmd & !IOC_SIZE_MASK == HIDIOCGRAWPHYS_BASE => nul_terminated(PHYS),
        _ => return None,
    };
    // The kernel gives us the caller's buffer size; never answer more than that.
    data.truncate(out_size);
    Some(data)
}

fn nul_terminated(text: &str) -> Vec<u8> {
    let mut data = text.as_bytes().to_vec();
    data.push(0);
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_size_is_an_int() {
        assert_eq!(
            answer(HIDIOCGRDESCSIZE, 4),
            Some(34i32.to_ne_bytes().to_vec())
        );
    }

    #[test]
    fn descriptor_is_the_fido_usage_page() {
        let data = answer(HIDIOCGRDESC, 4100).unwrap_or_default();
        assert_eq!(data.len(), 4100);
        assert_eq!(data[..4], 34u32.to_ne_bytes());
        assert_eq!(data[4..7], [0x06, 0xD0, 0xF1]);
    }

    #[test]
    fn name_respects_the_callers_buffer() {
        let cmd = HIDIOCGRAWNAME_BASE | (8 << 16);
        assert_eq!(answer(cmd, 8), Some(b"OpenSK v".to_vec()));
    }

    #[test]
    fn other_ioctls_are_not_hidraw() {
        assert_eq!(answer(0x5401, 0), None); // TCGETS
    }
}
