using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace PowerService.Runtime;

/// <summary>The threads that run the turns of <see cref="LowPriorityAttribute"/> grain classes: as many as the machine
/// has cores, each below the thread pool's OS priority (nice 10 on Linux, <see cref="ThreadPriority.BelowNormal"/>
/// elsewhere). When nothing else wants a core they take every core; when a dispatcher's call, a storage completion or
/// any other pool work is runnable, the OS runs it first, instead of it waiting in the pool's queue behind a storm's
/// thousands of meter-event turns. Turns still run one at a time per activation, in arrival order: only the thread
/// that runs them differs. Started on the first low-priority turn, so a silo without such grains has no extra threads.</summary>
internal sealed partial class LowPriorityWorkers : IDisposable
{
    /// <summary>The nice value of a worker on Linux: a nice-0 thread that wants the core gets ~90 % of it against one
    /// of these (scheduler weights 1024 and 110); raising a thread's own nice needs no privilege.</summary>
    public const int Nice = 10;

    private readonly ConcurrentQueue<Activation> _ready = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly int _workers;
    private readonly Lock _startLock = new();
    private Thread[]? _threads;
    private int _idle;
    private volatile bool _stopped;

    public LowPriorityWorkers(int workers) => _workers = workers;

    /// <summary>Activations waiting for a worker (sampled by the monitor).</summary>
    public int Waiting => _ready.Count;

    public void Schedule(Activation activation)
    {
        if (_threads is null)
        {
            Start();
        }
        _ready.Enqueue(activation);
        if (Volatile.Read(ref _idle) > 0)
        {
            _wake.Release();
        }
    }

    public void Dispose()
    {
        _stopped = true;
        if (_threads is not null)
        {
            _wake.Release(_threads.Length);
        }
    }

    private void Start()
    {
        lock (_startLock)
        {
            if (_threads is not null)
            {
                return;
            }
            var threads = new Thread[_workers];
            for (var i = 0; i < threads.Length; i++)
            {
                threads[i] = new Thread(Run) { IsBackground = true, Name = $"PowerService low-priority turns {i + 1}" };
                threads[i].Start();
            }
            _threads = threads;
        }
    }

    private void Run()
    {
        LowerOwnPriority();
        while (!_stopped)
        {
            while (_ready.TryDequeue(out var activation))
            {
                activation.Execute();
            }
            Interlocked.Increment(ref _idle);
            // A turn queued between the last dequeue and the increment saw no idle worker: look once more.
            if (_ready.IsEmpty && !_stopped)
            {
                _wake.Wait();
            }
            Interlocked.Decrement(ref _idle);
        }
    }

    /// <summary>Lowers the calling thread's scheduling priority. On Linux a thread has its own nice value, set with
    /// setpriority(PRIO_PROCESS, tid); .NET's <see cref="Thread.Priority"/> does not change it there.</summary>
    private static void LowerOwnPriority()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = SetPriority(PrioProcess, GetTid(), Nice);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // a libc without gettid (before glibc 2.30): the workers run at normal priority
            }
        }
        else
        {
            Thread.CurrentThread.Priority = ThreadPriority.BelowNormal;
        }
    }

    private const int PrioProcess = 0;

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetPriority(int which, int who, int priority);

    [DllImport("libc", EntryPoint = "gettid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetTid();
}
