using System.Collections.Concurrent;
using System.Numerics;
using System.Linq.Expressions;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace PowerService.Runtime;

/// <summary>What the runtime knows about one grain class: its type name, how to construct it and its policies.
/// Built once per class at start-up, so activation costs one compiled constructor call.</summary>
internal sealed class GrainClass
{
    private readonly Func<object?[], object> _construct;
    private readonly Func<Activation, object?>[] _arguments;
    private readonly ConcurrentDictionary<string, MethodCalls> _calls = new(StringComparer.Ordinal);
    private int _activationCount;

    private GrainClass(string typeName, Type type, bool reentrant, TimeSpan idleTimeout, Func<object?[], object> construct, Func<Activation, object?>[] arguments)
    {
        TypeName = typeName;
        Type = type;
        IsReentrant = reentrant;
        IdleTimeout = idleTimeout;
        _construct = construct;
        _arguments = arguments;
        IsRemindable = typeof(IRemindable).IsAssignableFrom(type);
    }

    public string TypeName { get; }
    public Type Type { get; }
    public bool IsReentrant { get; }
    public bool IsRemindable { get; }
    public TimeSpan IdleTimeout { get; }
    public int ActivationCount => Volatile.Read(ref _activationCount);

    /// <summary>Calls and errors per method, counted only while someone observes them.</summary>
    public IEnumerable<MethodCalls> Calls => _calls.Values;

    // The counter last used on this thread: calls come in runs of the same method, and a dictionary lookup per call
    // costs more than the metrics budget allows. Method names are literals, so a reference comparison finds them.
    [ThreadStatic]
    private static MethodCalls? t_lastCounter;

    public void CountCall(Invocation invocation)
    {
        var counter = t_lastCounter;
        if (counter is null || !ReferenceEquals(counter.Owner, this) || !ReferenceEquals(counter.Method, invocation.MethodName))
        {
            counter = t_lastCounter = _calls.GetOrAdd(invocation.MethodName, static (method, owner) => new MethodCalls(owner, method), this);
        }
        counter.Count(invocation.ResultTask.IsFaulted);
    }

    public void Activated() => Interlocked.Increment(ref _activationCount);
    public void Deactivated() => Interlocked.Decrement(ref _activationCount);

    /// <summary>Creates the grain instance and the persistent states it asked for in its constructor.</summary>
    public (Grain Grain, List<IActivationState>? States) Create(Activation activation)
    {
        var values = _arguments.Length == 0 ? [] : new object?[_arguments.Length];
        List<IActivationState>? states = null;
        for (var i = 0; i < _arguments.Length; i++)
        {
            values[i] = _arguments[i](activation);
            if (values[i] is IActivationState state)
            {
                (states ??= []).Add(state);
            }
        }
        var grain = (Grain)_construct(values);
        grain.Activation = activation;
        return (grain, states);
    }

    public static GrainClass From(Type type, TimeSpan defaultIdleTimeout)
    {
        var typeName = type.GetCustomAttribute<GrainTypeAttribute>()?.Name ?? type.Name;
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw new InvalidOperationException($"Grain class {type.FullName} has no public constructor.");
        var parameters = constructor.GetParameters();
        var arguments = parameters.Select(p => ArgumentFor(typeName, p)).ToArray();

        var array = Expression.Parameter(typeof(object?[]), "args");
        var newExpression = Expression.New(constructor, parameters.Select((p, i) =>
            Expression.Convert(Expression.ArrayIndex(array, Expression.Constant(i)), p.ParameterType)));
        var construct = Expression.Lambda<Func<object?[], object>>(newExpression, array).Compile();

        return new GrainClass(
            typeName,
            type,
            type.GetCustomAttribute<ReentrantAttribute>() is not null,
            type.GetCustomAttribute<IdleTimeoutAttribute>()?.Timeout ?? defaultIdleTimeout,
            construct,
            arguments);
    }

    private static Func<Activation, object?> ArgumentFor(string typeName, ParameterInfo parameter)
    {
        var type = parameter.ParameterType;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IPersistentState<>))
        {
            var stateName = parameter.GetCustomAttribute<PersistentStateAttribute>()?.StateName;
            var storageType = stateName is null ? typeName : $"{typeName}.{stateName}";
            var stateType = typeof(PersistentState<>).MakeGenericType(type.GetGenericArguments()[0]);
            return activation => Activator.CreateInstance(stateType, activation.Silo, new GrainId(storageType, activation.Id.Key));
        }
        if (type == typeof(IGrainFactory))
        {
            return activation => activation.Silo;
        }
        return activation => activation.Silo.Services.GetRequiredService(type);
    }
}

internal sealed class MethodCalls
{
    // Striped by thread, one cache line a stripe: cores incrementing one shared counter bounce its cache line on every
    // call, which alone cost ~5% of call throughput.
    private const int LongsPerLine = 8;
    private readonly long[] _counts;
    private readonly int _mask;

    public MethodCalls(GrainClass owner, string method)
    {
        Owner = owner;
        Method = method;
        var stripes = (int)BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount * 2);
        _mask = stripes - 1;
        _counts = new long[stripes * LongsPerLine];
    }

    public GrainClass Owner { get; }
    public string Method { get; }
    public long Completed => Sum(0);
    public long Failed => Sum(1);

    public void Count(bool failed)
    {
        var line = (Environment.CurrentManagedThreadId & _mask) * LongsPerLine;
        Interlocked.Increment(ref _counts[line]);
        if (failed)
        {
            Interlocked.Increment(ref _counts[line + 1]);
        }
    }

    private long Sum(int offset)
    {
        long total = 0;
        for (var line = 0; line < _counts.Length; line += LongsPerLine)
        {
            total += Interlocked.Read(ref _counts[line + offset]);
        }
        return total;
    }
}
