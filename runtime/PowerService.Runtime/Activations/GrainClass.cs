using System.Collections.Concurrent;
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

    public MethodCalls CounterFor(string method) => _calls.GetOrAdd(method, static (name, owner) => new MethodCalls(owner, name), this);

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
            return activation => Activator.CreateInstance(stateType, activation, new GrainId(storageType, activation.Id.Key));
        }
        if (type == typeof(IGrainFactory))
        {
            return activation => activation.Silo;
        }
        if (type == typeof(IJournal))
        {
            return activation => activation.Silo.Journal;
        }
        if (type == typeof(ICatalog))
        {
            return activation => activation.Silo.Catalog;
        }
        return activation => activation.Silo.Services.GetRequiredService(type);
    }
}

/// <summary>Exact call, error and refusal counts of one grain method. Activations count their calls in plain fields under
/// the lock they take anyway and add them here when the method changes and at every collector pass: a shared counter
/// touched on every call cost 2–5% of call throughput on two cores.</summary>
internal sealed class MethodCalls(GrainClass owner, string method)
{
    private long _completed;
    private long _failed;
    private long _refused;

    public GrainClass Owner { get; } = owner;
    public string Method { get; } = method;
    public long Completed => Interlocked.Read(ref _completed);
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Calls that ended in an <see cref="IRefusal"/>: answered, not failed.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public void Add(long completed, long failed, long refused)
    {
        Interlocked.Add(ref _completed, completed);
        if (failed != 0)
        {
            Interlocked.Add(ref _failed, failed);
        }
        if (refused != 0)
        {
            Interlocked.Add(ref _refused, refused);
        }
    }
}
