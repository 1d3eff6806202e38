using System.Text;
using Fugue.Hosting.Native;
using Microsoft.Win32.SafeHandles;

namespace Fugue.Hosting.Master.Platform;

/// <summary>
/// LogFile and MasterLogFile. The master's own stdout and stderr become the master log (MasterLogFile, else LogFile),
/// before the console is first used; workers' output, which the master relays line by line, goes to LogFile.
/// USR1 reopens both (logrotate's create mode: rename, USR1, the new lines go to a new file at the same path) by
/// pointing every descriptor of the old file at the new one, including the console's own duplicates.
/// </summary>
internal sealed class LogFiles
{
    private readonly string _masterPath;
    private readonly (string Path, int Fd)? _workerLog;

    private LogFiles(string masterPath, (string Path, int Fd)? workerLog, TextWriter? workerWriter)
    {
        _masterPath = masterPath;
        _workerLog = workerLog;
        WorkerOut = workerWriter;
    }

    /// <summary>Where workers' lines go when LogFile is not the master's log; null: the master's own stdout and stderr.</summary>
    public TextWriter? WorkerOut { get; }

    /// <summary>Redirects the master's stdout and stderr; null when no log file is configured.</summary>
    public static LogFiles? Open(string? logFile, string? masterLogFile)
    {
        string? masterPath = masterLogFile ?? logFile;
        if (masterPath is null)
        {
            return null;
        }
        int fd = Posix.OpenForAppend(masterPath, masterLogFile is null ? "LogFile" : "MasterLogFile");
        Posix.Duplicate(fd, 1);
        Posix.Duplicate(fd, 2);
        Posix.Close(fd);
        if (logFile is null || masterLogFile is null || Posix.SameFile(logFile, masterLogFile))
        {
            return new LogFiles(masterPath, null, null);
        }
        int workerFd = Posix.OpenForAppend(logFile, "LogFile");
        var stream = new FileStream(new SafeFileHandle(workerFd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
        var writer = TextWriter.Synchronized(new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true });
        return new LogFiles(masterPath, (logFile, workerFd), writer);
    }

    /// <summary>Opens the paths again and moves every descriptor of the old files onto the new ones.</summary>
    public void Reopen()
    {
        Posix.Repoint(1, _masterPath);
        if (_workerLog is var (path, fd))
        {
            Posix.Repoint(fd, path);
        }
    }
}
