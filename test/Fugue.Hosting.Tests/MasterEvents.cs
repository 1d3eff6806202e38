namespace Fugue.Hosting.Tests;

/// <summary>
/// The ids of the events Fugue logs (MasterLog, WorkerLog), as the README's "Log events" table documents them: tests
/// match events by these, never by wording. A changed id fails the tests that use it, as it would break a user's alert.
/// </summary>
internal static class MasterEvents
{
    public const int Listening = 1;
    public const int WorkerStarted = 2;
    public const int WorkerReady = 3;
    public const int WorkerDied = 4;
    public const int WorkerStopped = 5;
    public const int RestartDelayed = 6;
    public const int AllReady = 7;
    public const int Stopping = 8;
    public const int StoppingNow = 9;
    public const int KillingLateWorker = 10;
    public const int Stopped = 11;
    public const int SpawnFailed = 12;
    public const int HookFailed = 13;
    public const int SignalReceived = 14;
    public const int ControlSocket = 15;
    public const int ControlRefused = 16;
    public const int ClusterStopRequested = 17;
    public const int SignalStillIgnored = 18;
    public const int ReplacementStarted = 19;
    public const int RollDone = 20;
    public const int RollAborted = 21;
    public const int ReexecFailed = 22;
    public const int ReexecRolledBack = 23;
    public const int TookOver = 24;
    public const int KillingHungWorker = 25;
    public const int MasterWasPaused = 26;
    public const int LoopFailed = 27;
    public const int ConnectionBalance = 28;
    public const int ConnectionBalanceUnavailable = 29;
    public const int CpuAffinity = 30;
    public const int WorkerPinned = 31;
    public const int PinFailed = 32;
    public const int ReplacementPriorityPlanned = 33;
    public const int ChildPriorityRestored = 34;
    public const int ChildPriorityNotRestored = 35;
    public const int MasterPriorityRestored = 36;
    public const int MasterPriorityNotRestored = 37;
    public const int ReloadRefused = 38;
    public const int AppliedOnReexec = 39;
    public const int StepFailed = 40;
    public const int StrayMessage = 41;
    public const int BootTimedOut = 42;
    public const int ControlAcceptFailed = 43;
    public const int InheritedSocketClosed = 44;
    public const int PidFileFailed = 45;
    public const int WorkerCount = 46;
    public const int KeyRingShared = 47;
    public const int KeyRingLeftToApp = 48;
    public const int KeyRingUnavailable = 49;
    public const int SignalRAcrossWorkers = 50;
    public const int RollStarted = 51;
    public const int ReexecStarted = 52;
    public const int RequestRefused = 53;
    public const int ReplacementPriorityOff = 54;
    public const int WorkersScaled = 55;
    public const int SocketActivated = 56;
    public const int WorkerHeapLimit = 57;
    public const int WorkerHeapLimitLeft = 58;
    public const int SpareStarted = 59;
    public const int SpareReady = 60;
    public const int SparePromoted = 61;
    public const int SpareNotPromoted = 62;
    public const int MasterGone = 101;
    public const int Serving = 102;
    public const int MasterHung = 103;
    public const int WarmedUp = 104;
    public const int WarmUpSkipped = 105;
    public const int NotReady = 106;
    public const int RunsAs = 107;
    public const int HubAffinity = 108;
    public const int HandedOff = 109;
    public const int HandoffFailed = 110;
    public const int HubAffinityUnavailable = 111;
    public const int TookSlot = 112;
    public const int JitNotQuiet = 113;
    public const int SingleProcess = 201;
    public const int SingleProcessUnsupported = 202;
}
