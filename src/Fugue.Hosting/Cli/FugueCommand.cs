using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Cli;

/// <summary>
/// <c>&lt;app&gt; fugue &lt;command&gt;</c>: the app is its own control client. <c>UseFugue</c> sees the verb before the
/// app builds anything, finds the running master's control socket from the same configuration the app reads, sends
/// the request, prints the answer and exits; the app's own code after <c>UseFugue</c> never runs.
/// </summary>
internal static class FugueCommand
{
    public const string Word = "fugue";

    /// <summary>Exit codes: done, refused or failed by the master, not understood, no master found.</summary>
    public const int Done = 0, Failed = 1, Usage = 2, NoMaster = 3;

    private const string Help = """
        usage: <app> fugue <command>
          status [--json]   the master and every worker: state, uptime, restarts, connections, memory, CPU
          reload            re-read the configuration and replace every worker (as HUP); answers when done
          reexec            start a new master with the app's current files (as USR2); answers when it serves
          scale N           run N workers (as TTIN/TTOU); answers when they are ready
          stop              stop the cluster gracefully (as TERM); answers when the master has exited
          reopen-logs       reopen LogFile and MasterLogFile (as USR1)
          stacks N          print worker N's managed stacks, every thread's (written by its runtime to StacksPath)
        exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 usage, 3 no master found
        """;

    /// <summary>The words after <c>fugue</c> when this process was started as <c>&lt;app&gt; fugue ...</c>; null otherwise.</summary>
    public static string[]? Requested(string[] commandLine) =>
        commandLine.Length > 1 && commandLine[1] == Word ? commandLine[2..] : null;

    public static int Run(string[] words, string socketPath, TextWriter output, TextWriter error)
    {
        bool json = words.Contains("--json");
        string line = string.Join(' ', words.Where(w => w != "--json"));
        if (words is [] or ["help" or "--help" or "-h"])
        {
            output.WriteLine(Help);
            return words is [] ? Usage : Done;
        }
        if (ControlRequest.Parse(line, out string problem) is not { } request || (json && request.Verb != ControlVerb.Status))
        {
            error.WriteLine($"fugue: {(json ? "--json goes with status only" : problem)}");
            error.WriteLine(Help);
            return Usage;
        }
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException e)
        {
            error.WriteLine($"fugue: no master answers at {socketPath} ({e.Message}); it is {FugueOptions.SectionName}:ControlSocket, else " +
                $"<{FugueOptions.SectionName}:TempPath>/fugue-<uid>/<application name>.sock (without a TempPath: /run for root, else the system " +
                $"temporary directory), read from this app's configuration as uid {Posix.EffectiveUid}");
            return NoMaster;
        }
        // Whoever binds the path answers: on a shared /tmp another user could have, and its words are not the master's.
        var (uid, pid) = Posix.PeerCredentials(socket);
        if (uid != 0 && uid != Posix.EffectiveUid)
        {
            error.WriteLine($"fugue: the process answering at {socketPath} (pid {pid}) runs as uid {uid}, neither this user (uid {Posix.EffectiveUid}) nor root: not a master of this app");
            return NoMaster;
        }
        using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? answer;
        try
        {
            stream.Write(Encoding.UTF8.GetBytes(request + "\n"));
            answer = ReadLine(reader, MaxReply);
        }
        catch (IOException)
        {
            answer = null; // reset: the master closed on a request it would not read
        }
        if (answer is null)
        {
            error.WriteLine($"fugue: the master at {socketPath} closed the connection without an answer (a client of another user is refused)");
            return Failed;
        }
        var reply = JsonSerializer.Deserialize(answer, ControlJson.Default.ControlReply);
        if (reply is null || !reply.Ok)
        {
            error.WriteLine($"fugue {request}: {ControlCharacters.Escape(reply?.Message ?? answer)}");
            return Failed;
        }
        if (reply.Status is { } status)
        {
            output.Write(json ? JsonSerializer.Serialize(status, ControlJson.Default.ClusterStatus) + "\n" : StatusTable.Format(status));
            return Done;
        }
        if (request.Verb == ControlVerb.Stacks)
        {
            output.Write(StacksReport.Read(reply.Message) ?? $"the stacks were written to {ControlCharacters.Escape(reply.Message)}, which this user cannot read as a report\n");
            return Done;
        }
        output.WriteLine(ControlCharacters.Escape(reply.Message));
        if (request.Verb == ControlVerb.Stop)
        {
            reader.ReadToEnd(); // end of file: the master has exited
            output.WriteLine("stopped");
        }
        return Done;
    }

    /// <summary>The longest answer read: a status of the most workers a master runs fits many times over.</summary>
    internal const int MaxReply = 16 << 20;

    /// <summary>One line of at most <paramref name="max"/> characters; null at end of file or past the limit.</summary>
    private static string? ReadLine(TextReader reader, int max)
    {
        var line = new StringBuilder();
        int c;
        while ((c = reader.Read()) is not (-1 or '\n'))
        {
            if (line.Length == max)
            {
                return null;
            }
            line.Append((char)c);
        }
        return c == -1 && line.Length == 0 ? null : line.ToString();
    }

    /// <summary>The whole client as <c>UseFugue</c> runs it: from the configuration to the exit code.</summary>
    public static int Run(string[] words, FugueOptions options, string applicationName) =>
        Run(words, ControlSocketPath.Of(options, applicationName), Console.Out, Console.Error);
}
