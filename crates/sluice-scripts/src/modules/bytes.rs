//! Bytes between JavaScript and Rust: copying a `Uint8Array`'s contents out, making an
//! `ArrayBuffer` from Rust bytes, and the UTF-8 natives behind `Buffer` and `TextEncoder`.

use rquickjs::{ArrayBuffer, Ctx, Exception, Function, Object, TypedArray};

/// Copies the bytes of a `Uint8Array` (or Buffer) into Rust.
#[allow(unsafe_code)]
pub fn copy_out<'js>(ctx: &Ctx<'js>, a: &TypedArray<'js, u8>) -> rquickjs::Result<Vec<u8>> {
    if a.as_raw().is_none() {
        return Err(Exception::throw_type(ctx, "the buffer is detached"));
    }
    // SAFETY: the array is not detached (checked just above) and is a Uint8Array (its type),
    // and no JavaScript runs while the slice is alive: it is copied at once.
    Ok(unsafe { a.as_slice() }.to_vec())
}

/// A new `ArrayBuffer` holding `bytes`, allocated by the engine (`JS_NewArrayBufferCopy`), so
/// that it counts against the container's memory limit like any buffer the script makes itself.
/// (`ArrayBuffer::new` would adopt the Rust allocation, which the engine does not count: a
/// script could then hold any amount of host-made buffers.) Over the limit, the engine throws
/// its out-of-memory error and the invocation fails.
pub fn array_buffer<'js>(ctx: &Ctx<'js>, bytes: Vec<u8>) -> rquickjs::Result<ArrayBuffer<'js>> {
    ArrayBuffer::new_copy(ctx.clone(), bytes)
}

pub fn natives<'js>(
    ctx: &Ctx<'js>,
    _env: &crate::egress::ModuleEnv,
) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    o.set(
        "utf8Encode",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, s: String| {
            array_buffer(&ctx, s.into_bytes())
        })?,
    )?;
    o.set(
        "utf8Decode",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, a: TypedArray<'js, u8>| {
            copy_out(&ctx, &a).map(|b| String::from_utf8_lossy(&b).into_owned())
        })?,
    )?;
    Ok(o)
}
