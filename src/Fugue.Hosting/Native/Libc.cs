using System.Runtime.InteropServices;

namespace Fugue.Hosting.Native;

/// <summary>
/// The libc calls Tmds.LibC does not declare. Everything native goes through this folder.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    public const int WNOHANG = 1;
    public const int ECHILD = 10;
    public const int ESRCH = 3;
    public const int EINTR = 4;

    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;
    public const short POSIX_SPAWN_SETPGROUP = 0x02;

    // glibc x86_64/arm64: posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336; room to spare.
    public const int SpawnStructSize = 1024;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);

    // The same numbers on every architecture (Linux 5.3+); called through syscall(2), since glibc wraps them only from 2.36.
    public const long SYS_pidfd_send_signal = 424;
    public const long SYS_pidfd_open = 434;
    public const int ENOSYS = 38;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial long syscall(long number, long arg1, long arg2, long arg3, long arg4);

    public const short POLLHUP = 0x10;
    public const short POLLRDHUP = 0x2000;

    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeout);

    public const int PR_SET_NO_NEW_PRIVS = 38;
    public const int PR_SET_DUMPABLE = 4;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport(Lib)]
    public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_init(void* fileActions);

    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_destroy(void* fileActions);

    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_adddup2(void* fileActions, int fd, int newFd);

    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_addclosefrom_np(void* fileActions, int from);

    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_addopen(void* fileActions, int fd, byte* path, int flags, int mode);

    [LibraryImport(Lib)]
    public static partial int posix_spawn_file_actions_addchdir_np(void* fileActions, byte* path);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_init(void* attr);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_destroy(void* attr);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_setflags(void* attr, short flags);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_setpgroup(void* attr, int pgroup);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_setsigmask(void* attr, void* sigmask);

    [LibraryImport(Lib)]
    public static partial int posix_spawnattr_setsigdefault(void* attr, void* sigdefault);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int unsetenv(byte* name);

    [LibraryImport(Lib)]
    public static partial int setenv(byte* name, byte* value, int overwrite);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int flock(int fd, int operation);

    /// <summary>Returns the free memory at the top of glibc's heaps and in its arenas to the kernel.</summary>
    [LibraryImport(Lib)]
    public static partial int malloc_trim(nuint pad);

    /// <summary>pid 0: the calling thread only.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sched_getaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sched_setaffinity(int pid, nuint size, ulong* mask);

    public const int SCHED_OTHER = 0;
    public const int SCHED_IDLE = 5;

    /// <summary>A flag a policy may carry: threads and children created by the thread start at SCHED_OTHER.</summary>
    public const int SCHED_RESET_ON_FORK = 0x40000000;

    /// <summary>A thread id: that thread's policy (with <see cref="SCHED_RESET_ON_FORK"/>), or -1.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sched_getscheduler(int pid);

    /// <summary>A thread id: that thread only; <paramref name="param"/> points to its static priority (0 for both policies above).</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sched_setscheduler(int pid, int policy, int* param);

    public const int PRIO_PROCESS = 0;
    public const int RLIMIT_NICE = 13;

    /// <summary>PRIO_PROCESS with a thread id: that thread only (Linux keeps nice per thread); 0: the calling thread.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int getpriority(int which, int who);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setpriority(int which, int who, int prio);

    /// <summary>struct rlimit: current and maximum.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int getrlimit(int resource, ulong* limits);

    /// <summary>struct passwd (glibc): name, passwd, uid, gid, gecos, dir, shell.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Passwd
    {
        public byte* Name;
        public byte* Password;
        public uint Uid;
        public uint Gid;
        public byte* Gecos;
        public byte* Dir;
        public byte* Shell;
    }

    /// <summary>struct group (glibc): name, passwd, gid, members.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Group
    {
        public byte* Name;
        public byte* Password;
        public uint Gid;
        public byte** Members;
    }

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial Passwd* getpwnam(string name);

    [LibraryImport(Lib)]
    public static partial Passwd* getpwuid(uint uid);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial Group* getgrnam(string name);

    [LibraryImport(Lib)]
    public static partial Group* getgrgid(uint gid);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int getgrouplist(string user, uint group, uint* groups, int* ngroups);
}
