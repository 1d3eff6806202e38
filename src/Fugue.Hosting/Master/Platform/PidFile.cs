using System.Text;
using Fugue.Hosting.Native;
using Microsoft.Win32.SafeHandles;

namespace Fugue.Hosting.Master.Platform;

/// <summary>
/// The master's pid file. A lock file beside it (<c>&lt;path&gt;.lock</c>, flock held for the master's life) makes a
/// second master with the same pid file refuse to start; a file left by a dead master holds no lock and is taken over.
/// The content is written atomically (a temporary file renamed over it). On USR2 the old master renames it to
/// <c>&lt;path&gt;.oldbin</c> and hands the lock to the new master by descriptor. No file is opened through a symlink
/// (a worker's user who can write into the directory must not point a root master's writes elsewhere): the lock is
/// opened with O_NOFOLLOW, the temporary file created afresh with O_EXCL, and renames replace links, never follow them.
/// </summary>
internal sealed class PidFile(string path) : IDisposable
{
    private const uint PrivateMode = 0x180; // 0600

    private FileStream? _lock;

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public string OldBinPath => Path + ".oldbin";

    private string LockPath => Path + ".lock";

    /// <summary>The lock's descriptor, to hand to a new master.</summary>
    public int LockFd => (int)_lock!.SafeFileHandle.DangerousGetHandle();

    /// <summary>Takes the lock, or fails naming the master that holds it.</summary>
    public void Acquire()
    {
        try
        {
            var handle = OpenLock();
            if (!Posix.TryLockExclusive(handle))
            {
                handle.Dispose();
                string holder = Posix.ReadRegularFile(Path, 16) is { } content && int.TryParse(Encoding.ASCII.GetString(content).Trim(),
                    System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid) ? pid.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown";
                throw new InvalidOperationException($"{FugueOptions.SectionName}:PidFile = '{Path}': another master (pid {holder}) holds it.");
            }
            _lock = new FileStream(handle, FileAccess.ReadWrite);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"{FugueOptions.SectionName}:PidFile = '{Path}': {e.Message}", e);
        }
    }

    /// <summary>
    /// The lock file, this master's user's and mode 0600, so that no other user can open it (flock needs only a
    /// descriptor) and keep every master from starting. One that is not (another user made it, or others may open it)
    /// is replaced: whoever holds its lock holds nothing.
    /// </summary>
    private SafeFileHandle OpenLock()
    {
        var handle = Posix.OpenNoFollow(LockPath, exclusive: false, PrivateMode);
        var opened = Posix.Entry(handle);
        if (opened.Owner == (uint)Posix.EffectiveUid && opened.Private)
        {
            return handle;
        }
        handle.Dispose();
        if (Posix.FileIdentity(LockPath) == opened.Identity)
        {
            File.Delete(LockPath); // not a file another master made meanwhile: that one is kept, and its lock decides
        }
        return Posix.OpenNoFollow(LockPath, exclusive: true, PrivateMode);
    }

    /// <summary>Keeps the lock a previous master handed over (USR2), already held through the inherited descriptor.</summary>
    public void Adopt(int fd) => _lock = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.ReadWrite);

    public void Write()
    {
        string temp = Path + ".tmp";
        File.Delete(temp); // a leftover, or a link someone put there: unlink removes the link itself
        using (var file = new FileStream(Posix.OpenNoFollow(temp, exclusive: true), FileAccess.Write))
        {
            file.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n"));
        }
        File.Move(temp, Path, overwrite: true);
    }

    public void MoveToOldBin() => File.Move(Path, OldBinPath, overwrite: true);

    public void RestoreFromOldBin() => File.Move(OldBinPath, Path, overwrite: true);

    /// <summary>Removes the files on a clean exit.</summary>
    public void Remove()
    {
        File.Delete(Path);
        File.Delete(LockPath);
    }

    public void Dispose() => _lock?.Dispose();
}
