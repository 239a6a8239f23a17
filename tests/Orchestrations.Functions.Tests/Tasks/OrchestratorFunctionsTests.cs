using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Moq;
using Orchestrations.Functions.Tasks;
using Orchestrations.Workflows;
using Orchestrations.Workflows.Provisioning.Orchestrations;

namespace Orchestrations.Functions.Tests.Tasks;

public sealed class OrchestratorFunctionsTests
{
    private static IEnumerable<MethodInfo> OrchestratorFunctionMethods() =>
        FunctionsAppRegistrationTests.FunctionMethods().Where(m => m.GetParameters().Any(p => p.GetCustomAttribute<OrchestrationTriggerAttribute>() is not null));

    public static TheoryData<string> OrchestratorFunctionNames() => [.. OrchestratorFunctionMethods().Select(FunctionInvoker.FunctionName)];

    private static Type[] OrchestratorTypeArguments(Type orchestrator)
    {
        for (Type? type = orchestrator; type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(TaskOrchestrator<,>))
            {
                return type.GetGenericArguments();
            }
        }

        throw new InvalidOperationException($"{orchestrator} is not a TaskOrchestrator<,>.");
    }

    [Fact]
    public void OrchestratorFunctions_OnePerOrchestratorOfTheLibrary()
    {
        Assert.Equal(WorkflowTasks.Orchestrators.Select(t => t.Name).Order(), OrchestratorFunctionMethods().Select(FunctionInvoker.FunctionName).Order());
    }

    [Theory]
    [MemberData(nameof(OrchestratorFunctionNames))]
    public async Task OrchestratorFunction_Invoked_RunsTheOrchestratorOfItsNameOnItsTypedInput(string functionName)
    {
        MethodInfo method = OrchestratorFunctionMethods().Single(m => FunctionInvoker.FunctionName(m) == functionName);
        Type orchestrator = Assert.Single(WorkflowTasks.Orchestrators, t => t.Name == functionName);
        Type[] inputAndOutput = OrchestratorTypeArguments(orchestrator);
        Assert.Equal(typeof(Task<>).MakeGenericType(inputAndOutput[1]), method.ReturnType);

        // Strict: the input is the only thing set up, so the orchestrator body's first use of the context throws.
        List<Type> inputsRead = [];
        Mock<TaskOrchestrationContext> context = new(MockBehavior.Strict);
        context.Setup(c => c.GetInput<It.IsAnyType>()).Returns(new InvocationFunc(invocation =>
        {
            Type inputType = invocation.Method.GetGenericArguments()[0];
            inputsRead.Add(inputType);
            return RuntimeHelpers.GetUninitializedObject(inputType);
        }));

        MockException reached = await Assert.ThrowsAsync<MockException>(() => FunctionInvoker.InvokeAsync(method, null, context.Object));

        Assert.Equal([inputAndOutput[0]], inputsRead);
        Assert.Contains($"{nameof(TaskOrchestrationContext)}.", reached.Message, StringComparison.Ordinal); // the body's first use of its context
    }

    [Fact]
    public async Task RunOrchestratorAsync_NoInput_FailsNamingTheInstance()
    {
        Mock<TaskOrchestrationContext> context = new();
        context.SetupGet(c => c.Name).Returns(new TaskName(nameof(ProvisionDevices)));
        context.SetupGet(c => c.InstanceId).Returns("job-9");

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => OrchestratorFunctions.ProvisionDevices(context.Object));

        Assert.Contains("'job-9'", error.Message, StringComparison.Ordinal);
    }
}
