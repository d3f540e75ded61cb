public class HelloWorld {
    public static void main(String[] args) {
        System.out.println("Hello from the builder pattern: jar copied through the host.");
    }
}
